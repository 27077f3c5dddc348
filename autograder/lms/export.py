"""Final grades for the LMS: auto-graded plus hand-graded points, per roster student.

Read from the graded results (with the hand-graded scores ``report --manual`` stored in them). A
student with hand-graded answers still pending gets no LMS grade unless ``include_pending``; one
without results gets none unless ``missing_zero``; a graded student the roster does not list is
reported. ``final_grades.csv`` in the grading folder records every decision.
"""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from ..reports import cells_frame, grades_frame, load_results
from . import LMS_NAMES, LmsError, canvas, manifest, moodle
from .roster import Roster

FINAL_COLUMNS = ["student_id", "name", "auto_score", "manual_score", "manual_pending_points", "total",
                 "max_total", "lms_grade", "lms_points", "late", "status", "exported", "reason"]


@dataclass
class FinalGrade:
    student_id: str
    name: str
    auto_score: float | None
    manual_score: float | None
    manual_pending_points: float | None
    total: float | None
    max_total: float
    lms_grade: float | None       # what the LMS receives (scaled to lms_points); None: nothing sent
    lms_points: float
    late: str
    status: str
    exported: str                 # "yes" / "no"
    reason: str


def final_grades(out: Path, roster: Roster, *, points_possible: float | None = None,
                 include_pending: bool = False, missing_zero: bool = False) -> tuple[list[FinalGrade], list[str]]:
    """One FinalGrade per roster student, and the graded students the roster lacks."""
    results = load_results(Path(out) / "results")
    if not results:
        raise LmsError(f"{Path(out) / 'results'}: no grading results to export")
    grades = grades_frame(cells_frame(results)).set_index("student")
    max_total = float(grades["max_total"].max())
    if max_total <= 0:
        raise LmsError(f"{out}: the graded notebooks have no points")
    points = float(points_possible) if points_possible else max_total
    if points <= 0:
        raise LmsError(f"--points-possible {points_possible}: must be positive")
    rows = manifest.read(out)
    late = manifest.late_by_student(rows)
    handed_in = {r["student_id"] for r in rows or [] if r.get("status") == "submitted" and r.get("student_id")}
    finals = []
    for student in roster:
        sid = student.student_id
        if sid not in grades.index:
            if sid in handed_in:       # submitted, but not graded (yet): a 0 would be wrong
                zero, reason = False, "submitted (intake) but no grading results: not exported; grade it first"
            else:
                zero = missing_zero
                reason = "no graded submission" + ("; exported as 0 (--missing-zero)" if missing_zero else "")
            finals.append(FinalGrade(sid, student.name, None, None, None, None, max_total, 0.0 if zero else None,
                                     points, late.get(sid, ""), "no results", "yes" if zero else "no", reason))
            continue
        g = grades.loc[sid]
        total, pending = float(g["total_so_far"]), float(g["manual_pending_points"])
        reasons = []
        if g["status"] != "ok":
            reasons.append(f"graded with problems: {g['status']}")
        send = True
        if pending > 0:
            if include_pending:
                reasons.append(f"{pending:g} hand-graded point(s) still pending, exported as 0 (--include-pending)")
            else:
                send = False
                reasons.append(f"{pending:g} hand-graded point(s) still pending: not exported "
                               "(grade them with report --manual, or pass --include-pending)")
        finals.append(FinalGrade(sid, student.name, float(g["auto_score"]), float(g["manual_score"]), pending,
                                 total, max_total, round(total * points / max_total, 4) if send else None, points,
                                 late.get(sid, ""), str(g["status"]), "yes" if send else "no", "; ".join(reasons)))
    listed = {s.student_id for s in roster}
    strangers = [f"{sid}: graded but not in the roster; not exported" for sid in grades.index if sid not in listed]
    return finals, strangers


def write_final(finals: list[FinalGrade], to: Path) -> Path:
    with open(to, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FINAL_COLUMNS)
        writer.writeheader()
        for final in finals:
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(final).items()})
    return to


def export(out: Path, lms: str, roster: Roster, *, to: Path | None = None, template: Path | None = None,
           column: str | None = None, points_possible: float | None = None, include_pending: bool = False,
           missing_zero: bool = False) -> tuple[Path, list[FinalGrade], list[str]]:
    """Write the LMS import file (and ``final_grades.csv``); return its path, the grades and the
    mismatches to report."""
    if lms not in LMS_NAMES:
        raise LmsError(f"--lms {lms!r}: expected one of {', '.join(LMS_NAMES)}")
    out = Path(out)
    finals, problems = final_grades(out, roster, points_possible=points_possible,
                                    include_pending=include_pending, missing_zero=missing_zero)
    grades = {f.student_id: f.lms_grade for f in finals if f.lms_grade is not None}
    points = finals[0].lms_points
    to = Path(to) if to else out / f"{lms}_import.csv"
    if lms == "canvas":
        written, mismatches = canvas.write_import(grades, roster, to, points=points, column=column,
                                                  template=Path(template) if template else None)
    else:
        rows = manifest.read(out) or []
        known = {r["lms_key"]: r["student_id"] for r in rows
                 if r.get("lms") == "moodle" and r.get("student_id") and r.get("lms_key")}
        written, mismatches = moodle.write_import(grades, roster, to, points=points,
                                                  template=Path(template) if template else None, known=known)
    for final in finals:
        if final.lms_grade is not None and final.student_id not in written:
            final.exported = "no"
            final.reason = "; ".join(filter(None, [final.reason, f"no row in {to.name} (see the mismatches)"]))
    problems += mismatches
    problems += [f"{f.student_id}: {f.reason}" for f in finals if f.exported == "no" and f.lms_grade is None]
    write_final(finals, out / "final_grades.csv")
    return to, finals, problems
