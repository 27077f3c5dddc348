"""Hand grading: a sheet of the written answers to score, and applying the filled sheet.

``manual_to_grade.csv`` lists every pending hand-graded cell with the student's answer and an
empty ``score`` (and ``comment``) for graders; ``python -m autograder report OUT --manual FILE``
puts the scores into the results and rewrites every report.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import pandas as pd

SHEET_COLUMNS = ["student", "notebook", "grade_id", "max_score", "score", "comment", "answer"]


class ManualGradesError(ValueError):
    """A filled sheet that cannot be applied; the message names the file and the row."""


def sheet(results: Iterable[dict]) -> pd.DataFrame:
    rows = [{"student": r["student"], "notebook": r["notebook"], "grade_id": c["grade_id"],
             "max_score": c["max_score"], "score": "", "comment": "", "answer": c.get("answer", "")}
            for r in results for c in r.get("cells", []) if c.get("kind") == "manual" and c.get("needs_manual")]
    return pd.DataFrame(rows, columns=SHEET_COLUMNS)


def write_sheet(results: Iterable[dict], out_dir: Path) -> Path:
    path = Path(out_dir) / "manual_to_grade.csv"
    sheet(results).to_csv(path, index=False)
    return path


def apply(results: list[dict], path: Path) -> int:
    """Put the scores of a filled sheet into ``results`` (in place); return how many were applied.

    Rows with an empty score are left pending. Unknown students or cells and scores outside
    ``0..max_score`` are refused with the file, row and problem named; nothing is applied then.
    """
    path = Path(path)
    try:
        filled = pd.read_csv(path, dtype={"student": str, "grade_id": str, "notebook": str}, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise ManualGradesError(f"{path}: cannot read the sheet ({exc})") from exc
    missing = {"student", "grade_id", "score"} - set(filled.columns)
    if missing:
        raise ManualGradesError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    cells = {(r["student"], c["grade_id"]): c for r in results for c in r.get("cells", [])
             if c.get("kind") == "manual"}
    updates = []
    for i, row in filled.iterrows():
        where = f"{path}, row {i + 2}"
        if str(row["score"]).strip() == "":
            continue
        key = (row["student"], row["grade_id"])
        if key not in cells:
            raise ManualGradesError(f"{where}: no hand-graded cell {row['grade_id']!r} for student {row['student']!r}")
        try:
            score = float(row["score"])
        except ValueError:
            raise ManualGradesError(f"{where}: score {row['score']!r} is not a number") from None
        top = float(cells[key]["max_score"])
        if math.isnan(score) or not 0 <= score <= top:
            raise ManualGradesError(f"{where}: score {score:g} is outside 0..{top:g} for {row['grade_id']}")
        updates.append((cells[key], score, str(row.get("comment", "") or "")))
    for cell, score, comment in updates:
        cell.update(score=score, needs_manual=False, message=comment or cell.get("message", ""))
    return len(updates)
