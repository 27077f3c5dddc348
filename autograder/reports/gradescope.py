"""Gradescope-style ``results.json`` per student.

Format: https://gradescope-autograders.readthedocs.io/en/latest/specs/ . Autograded cells are
tests with a score; hand-graded cells are listed with their ``max_score`` and the note
"graded by hand" but no ``score``, so the top-level ``score`` is the autograded points only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .naming import safe_component
from .tables import notebook_status

MANUAL_NOTE = "graded by hand"


def _points(x: float) -> str:
    return f"{x:g}"


def _test(cell, visibility: str) -> dict:
    name = f"{cell.notebook} / {cell.grade_id}"
    if cell.kind == "auto":
        return {"name": name, "number": cell.question, "score": float(cell.score),
                "max_score": float(cell.max_score), "output": cell.message, "visibility": visibility}
    if cell.needs_manual:
        output = f"{MANUAL_NOTE}; not graded yet"
    else:
        output = (f"{MANUAL_NOTE}: {_points(cell.score)}/{_points(cell.max_score)}, "
                  "not included in the autograder score")
    if cell.message:
        output += f"\n{cell.message}"
    return {"name": name, "number": cell.question, "max_score": float(cell.max_score),
            "output": output, "visibility": visibility}


def student_results(cells: pd.DataFrame, student: str, *, execution_time: float = 0.0,
                    note: str = "", visibility: str = "after_published") -> dict:
    """The ``results.json`` payload for one student (cells as from :func:`cells_frame`)."""
    mine = cells[cells["student"] == student].copy()
    mine["score"] = mine["score"].fillna(0.0)
    tests = [_test(cell, visibility) for cell in mine.itertuples(index=False)]
    auto = mine[mine["kind"] == "auto"]
    score = round(float(auto["score"].sum()), 4)
    manual_max = float(mine.loc[mine["kind"] != "auto", "max_score"].sum())
    lines = [note] if note else []
    lines.append(f"Autograded score: {_points(score)} / {_points(float(auto['max_score'].sum()))}.")
    if manual_max:
        lines.append(f"A further {_points(manual_max)} points are {MANUAL_NOTE}.")
    for nb in notebook_status(mine).itertuples(index=False):
        if nb.status != "graded":
            lines.append(f"{nb.notebook}: {nb.status}" + (f" — {nb.reason}" if nb.reason else ""))
    return {
        "score": score,
        "execution_time": int(round(execution_time)),
        "output": "\n".join(lines),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(cells: pd.DataFrame, results: Iterable[dict], out_dir: Path, *,
                     note: str = "", visibility: str = "after_published") -> dict[str, Path]:
    """Write ``gradescope/<student>/results.json`` for every student; return the paths by student."""
    elapsed: dict[str, float] = {}
    for result in results:
        student = str(result.get("student", ""))
        elapsed[student] = elapsed.get(student, 0.0) + float(result.get("elapsed_s") or 0.0)
    paths: dict[str, Path] = {}
    for student in dict.fromkeys(cells["student"]):
        payload = student_results(cells, student, execution_time=elapsed.get(student, 0.0),
                                  note=note, visibility=visibility)
        path = Path(out_dir) / "gradescope" / safe_component(student) / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths[student] = path
    return paths
