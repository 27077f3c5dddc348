"""The demo: release, then grade the bundled submissions in the smoke profile and check the table.

Demo submissions are derived from the source notebooks by the named edits in ``rosters/<assignment>.toml``;
each says which test cells it must cost, and :func:`main` verifies the grades against that.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .. import release
from ..grading import runner
from . import submissions

REPO = Path(__file__).resolve().parents[2]


def auto_scores(results: list[dict[str, Any]]) -> dict[str, dict[str, tuple[float, float]]]:
    """student -> grade_id -> (score, max) for auto-graded cells."""
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for result in results:
        for cell in result["cells"]:
            if cell["kind"] == "auto":
                table.setdefault(result["student"], {})[cell["grade_id"]] = (float(cell["score"] or 0), cell["max_score"])
    return table


def expectation_errors(results: list[dict[str, Any]], roster: dict[str, dict[str, Any]]) -> list[str]:
    """Where a demo student's grades differ from what its edits must cost."""
    errors = []
    for result in results:                # a student handing in some notebooks: the others are missing
        handed_in = roster[result["student"]].get("notebooks")
        if handed_in is not None and (result["status"] == "missing") == (result["notebook"] in handed_in):
            errors.append(f"{result['student']}: {result['notebook']} has status {result['status']!r}, "
                          f"but the student hands in {', '.join(handed_in)}")
    results = [r for r in results if r["status"] != "missing" or roster[r["student"]].get("notebooks") is None]
    for student, cells in sorted(auto_scores(results).items()):
        lost = roster[student]["lost"]
        for grade_id, (score, top) in sorted(cells.items()):
            want = 0.0 if lost == "all" or grade_id in lost else top
            if score != want:
                errors.append(f"{student}: {grade_id} scored {score:g}/{top:g}, expected {want:g}")
    for student, spec in sorted(roster.items()):     # a notebook that must be stopped (e.g. by the memory cap)
        statuses = {r["status"] for r in results if r["student"] == student}
        if spec.get("status") and spec["status"] not in statuses:
            errors.append(f"{student}: expected a notebook stopped with status {spec['status']!r}, got {sorted(statuses)}")
    return errors


def _by_cell_timeout(roster: dict[str, dict[str, Any]], folder: Path) -> list[tuple[int | None, Path]]:
    """Batches of demo students sharing a per-cell time limit: the profile's (None), or a shorter one a roster
    entry sets (``cell_timeout``) so that a student who must be stopped by it does not cost the demo minutes."""
    limits = sorted({int(spec["cell_timeout"]) for spec in roster.values() if spec.get("cell_timeout")})
    batches: list[tuple[int | None, Path]] = [(None, folder)]
    for limit in limits:
        batch = folder.parent / f"{folder.name}_cell_timeout_{limit}"
        shutil.rmtree(batch, ignore_errors=True)
        batch.mkdir(parents=True)
        for student, spec in roster.items():
            if spec.get("cell_timeout") == limit:
                shutil.move(str(folder / student), batch / student)
        batches.append((limit, batch))
    return batches


def similarity_report(assignment: str, out: Path, folders: list[Path]) -> str:
    """Write the similarity report of the demo students' answers; the line that says where it is.
    (Demo students are edits of one reference solution: most of their answers are the same code.)"""
    from ..reports.similarity import report_line, write_similarity
    return report_line(write_similarity(folders, assignment, out, release_dir=REPO / "release" / assignment,
                                        scratch=out / "work" / "similarity"))


def grade_assignment(assignment: str, out: Path, *, workers: int | None, resume: bool) -> list[str]:
    """Write, grade and report one assignment's demo students under ``out``; the table mismatches."""
    from ..reports import grade_table, write_reports

    roster = submissions.write_all(REPO / "source" / assignment, REPO / "release" / assignment,
                                   out / "submissions")
    print(f"\n{assignment}:")
    for student, spec in roster.items():
        print(f"  demo submission {student:<24} {spec['about']}")
    results = []
    batches = _by_cell_timeout(roster, out / "submissions")
    for timeout, folder in batches:
        opts = runner.Options(submissions=folder, assignment=assignment, out=out, profile="smoke",
                              workers=workers, resume=resume, cell_timeout=timeout)
        results += runner.grade(opts)
    write_reports(results, out, assignment=assignment, profile="smoke")
    print()
    print(grade_table(results))
    print(f"\nreports in {out}: grades.csv, questions.csv, question_matrix.csv, nbgrader_grades.csv, summary.md, "
          "grade_distribution.png, feedback/<student>/, gradescope/<student>/results.json")
    print(similarity_report(assignment, out, [folder for _, folder in batches]))
    return [f"{assignment}: {e}" for e in expectation_errors(results, roster)]


def main(*, workers: int | None = None, out: Path = REPO / "build" / "demo", resume: bool = True,
         assignments: list[str] | None = None) -> int:
    """Release, then grade every assignment's demo students (``out/<assignment>/``) and check the tables."""
    out = Path(out)
    names = release.generate(REPO)
    print(f"release/ and solutions/ generated from source/ for {', '.join(names)}")
    leaks = release.leaks(REPO / "release")
    if leaks:
        print("error: the release contains solutions or hidden tests:\n  " + "\n  ".join(leaks))
        return 1
    errors = []
    for assignment in assignments or submissions.assignments():
        errors += grade_assignment(assignment, out / assignment, workers=workers, resume=resume)
    if errors:
        print("\nThe grades differ from what the demo submissions must score:\n  " + "\n  ".join(errors))
        return 1
    print("\nEvery demo submission scored exactly what its edits must cost "
          "(reference: full marks; blank: 0 auto-graded points).")
    return 0
