"""``intake.csv``: what the intake found for each student, read again by ``grade``, ``report`` and ``export``.

The intake writes it at the top of the submissions folder (where ``grade`` looks only at student
folders); ``grade`` copies it into its output folder so the reports and the export find it there.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

NAME = "intake.csv"
COLUMNS = ["student_id", "name", "status", "late", "lms", "lms_key", "lms_name", "matched_by", "kept",
           "superseded", "other_files", "notes"]
SUBMITTED, MISSING, UNKNOWN, UNRECOGNISED = "submitted", "no submission", "not in roster", "unrecognised file"


def write(rows: list[dict[str, str]], to: Path) -> Path:
    with open(to, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in COLUMNS} for row in rows)
    return to


def read(folder: Path) -> list[dict[str, str]] | None:
    """The rows of ``folder/intake.csv``, or None when the folder has none."""
    path = Path(folder) / NAME
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def carry(submissions: Path, out: Path) -> Path | None:
    """Copy the intake's manifest from a submissions folder into a grading output folder."""
    source = Path(submissions) / NAME
    if not source.is_file():
        return None
    Path(out).mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, Path(out) / NAME))


def late_by_student(rows: list[dict[str, str]] | None) -> dict[str, str]:
    """student id -> "yes" / "no" / "" (the download did not say)."""
    return {r["student_id"]: r.get("late", "") for r in rows or [] if r.get("student_id")}
