"""Class-wide files built from every per-student result: nbgrader's CSV and the review list.

Both are rebuilt from all results each time (``grade`` and ``report``), so shards that share an
output folder end up with the same files as one run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def write_flags(results: list[dict[str, Any]], to: Path) -> Path:
    """Answers a human should look at: code that touches the grader, reported numbers that disagree."""
    rows = [{"student": r["student"], "notebook": r["notebook"], "where": flag}
            for r in results for flag in r.get("flags", [])]
    pd.DataFrame(rows, columns=["student", "notebook", "where"]).to_csv(to, index=False)
    return to


def merge_nbgrader_exports(results: list[dict[str, Any]], to: Path) -> Path | None:
    """One nbgrader-format CSV for the class: each notebook's `nbgrader export` row, summed per student.

    A notebook that could not be run (missing, unreadable, killed) has no row and counts 0;
    grades.csv carries the reasons.
    """
    rows = pd.DataFrame([dict(r["nbgrader_export"], student_id=r["student"])
                         for r in results if r.get("nbgrader_export")])
    if rows.empty:
        return None
    for column in ("raw_score", "late_submission_penalty", "score", "max_score"):
        rows[column] = pd.to_numeric(rows[column])
    keys = ["assignment", "student_id"]
    merged = rows.groupby(keys, as_index=False).agg(
        raw_score=("raw_score", "sum"), late_submission_penalty=("late_submission_penalty", "sum"),
        score=("score", "sum"), max_score=("max_score", "first"))
    merged.to_csv(to, index=False)
    return to
