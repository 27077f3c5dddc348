"""The task's gradebook, through nbgrader's API: its graded cells, the judge's scores written in,
the per-cell record the reports read, and nbgrader's own export row."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat

QUESTION = re.compile(r"^(q\d+)")
REVISION = re.compile(r"^(down_)?revision\s*=\s*(?:['\"](\w+)['\"]|None)\s*$", re.M)


def schema_head() -> str:
    """The newest revision of nbgrader's gradebook schema, read from its migration scripts. nbgrader
    asks a subprocess (``alembic heads``) for it whenever it creates a gradebook: 3-4 s at every run."""
    import nbgrader

    revisions, parents = set(), set()
    for script in (Path(nbgrader.__file__).parent / "alembic" / "versions").glob("*.py"):
        for down, rev in REVISION.findall(script.read_text()):
            (parents if down else revisions).add(rev)
    heads = sorted(revisions - parents - {""})
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's gradebook migrations have {len(heads)} heads ({', '.join(heads)}), not one")
    return heads[0]


def create(path: Path) -> None:
    """An empty gradebook at ``path``, exactly as nbgrader's ``Gradebook`` creates a new one (its
    tables and the schema revision it records), without the subprocess."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{path}", future=True)
    try:
        Base.metadata.create_all(bind=engine)
        with engine.begin() as db:
            db.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            db.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": schema_head()})
    finally:
        engine.dispose()


def question_of(grade_id: str) -> str:
    m = QUESTION.match(grade_id)
    return m.group(1) if m else grade_id


def grade_cells(gradebook: Path, assignment: str, notebook: str) -> list[dict[str, Any]]:
    """The graded cells of a notebook as the gradebook knows them (source of truth for max points)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}") as gb:
        nb = gb.find_notebook(notebook, assignment)
        return [{"grade_id": c.name, "question": question_of(c.name),
                 "kind": "auto" if c.cell_type == "code" else "manual",
                 "score": 0.0 if c.cell_type == "code" else None, "max_score": float(c.max_score),
                 "needs_manual": c.cell_type != "code", "message": ""} for c in nb.grade_cells]


def read_autograded(autograded: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Per grade cell of the executed notebook: the error a failed test raised (as ``Error: message``,
    no source, no traceback) and the text of each hand-graded answer."""
    errors: dict[str, str] = {}
    answers: dict[str, str] = {}
    if not autograded.is_file():
        return errors, answers
    for cell in nbformat.read(autograded, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if meta.get("solution"):
            answers[meta["grade_id"]] = cell.source
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors[meta["grade_id"]] = f"{output.get('ename')}: {output.get('evalue')}".strip()
    return errors, answers


def unscored(gradebook: Path, assignment: str, notebook: str, reason: str) -> list[dict[str, Any]]:
    """Every graded cell of a notebook at 0 (hand-graded: pending) with ``reason``: nothing could run."""
    return [dict(c, message=reason) for c in grade_cells(gradebook, assignment, notebook)]


def scored_cells(gradebook: Path, assignment: str, student: str, notebook: str,
                 autograded: Path) -> list[dict[str, Any]]:
    from nbgrader.api import Gradebook

    errors, answers = read_autograded(autograded)
    cells = []
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        submission = gb.find_submission_notebook(notebook, assignment, student)
        for grade in sorted(submission.grades, key=lambda g: g.cell.id if g.cell else 0):
            manual = grade.cell_type != "code"
            score = None if manual and grade.needs_manual_grade else float(grade.score or 0.0)
            cells.append({"grade_id": grade.name, "question": question_of(grade.name),
                          "kind": "manual" if manual else "auto", "score": score,
                          "max_score": float(grade.max_score), "needs_manual": bool(grade.needs_manual_grade),
                          "message": errors.get(grade.name, "")})
            if manual:
                cells[-1]["answer"] = answers.get(grade.name, "")
    order = {c["grade_id"]: i for i, c in enumerate(grade_cells(gradebook, assignment, notebook))}
    return sorted(cells, key=lambda c: order.get(c["grade_id"], len(order)))


def export_row(gradebook: Path, to: Path, student: str) -> dict[str, Any] | None:
    """nbgrader's own CSV export of this task's gradebook; the student's row (the runner sums them)."""
    import csv

    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(to)
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        plugin.export(gb)
    with open(to, newline="") as fh:
        return next((row for row in csv.DictReader(fh) if row["student_id"] == student), None)


def apply_verdicts(t: Any, verdicts: dict[str, Any]) -> None:
    """Write the judge's scores into the gradebook (nbgrader's API) and its messages into the
    executed notebook, in place of whatever the student's kernel printed in those cells."""
    from nbformat.v4 import new_output
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{t.gradebook}") as gb:
        for grade_id, verdict in verdicts.items():
            try:
                grade = gb.find_grade(grade_id, t.notebook, t.assignment, t.student)
            except Exception:
                continue
            grade.auto_score = float(grade.max_score) if verdict.passed else 0.0
        gb.db.commit()
    if not t.autograded.is_file():
        return
    nb = nbformat.read(t.autograded, as_version=4)
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        verdict = verdicts.get(grade_id)
        if verdict is None or cell.cell_type != "code":
            continue
        cell.outputs = [new_output("stream", name="stdout", text="\n".join(verdict.messages) + "\n")]
        if not verdict.passed:
            first = next((m for m in verdict.messages if m.startswith("FAILED: ")), "FAILED: check failed")
            cell.outputs.append(new_output("error", ename="CheckFailed", evalue=first[len("FAILED: "):],
                                           traceback=[f"CheckFailed: {first[len('FAILED: '):]}"]))
    nbformat.write(nb, t.autograded)
