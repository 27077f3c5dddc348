"""Reports from graded results: CSV tables, feedback HTML, Gradescope JSON, summary and plots.

Input: the runner's result dicts, one per (student, notebook); see :func:`load_results`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..lms import manifest
from .exports import merge_nbgrader_exports, write_flags
from .feedback import write_feedback
from .gradescope import write_gradescope
from .manual import write_sheet
from .provenance import data_served, run_note
from .summary import format_table, plot_difficulty, plot_distribution, summary_markdown
from .tables import cells_frame, grades_frame, question_matrix, questions_frame, write_csvs

__all__ = [
    "load_results", "write_reports", "cells_frame", "grades_frame", "questions_frame",
    "question_matrix", "format_table", "grade_table",
]

log = logging.getLogger(__name__)
_REQUIRED = ("student", "notebook", "cells")


def load_results(results_dir: Path | str) -> list[dict]:
    """Read every ``*.json`` under *results_dir* (sorted by path).

    A file that is not valid JSON or lacks ``student``/``notebook``/``cells`` is logged as a
    warning with its path and skipped.
    """
    results = []
    for path in sorted(Path(results_dir).rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("skipping unreadable result %s: %s", path, exc)
            continue
        if not isinstance(data, dict) or any(key not in data for key in _REQUIRED):
            log.warning("skipping %s: not a grading result (needs %s)", path, ", ".join(_REQUIRED))
            continue
        results.append(data)
    return results


def grade_table(results: list[dict]) -> str:
    """The terminal grade table of ``results`` (one row per student)."""
    return format_table(grades_frame(cells_frame(results)))


UNCONFINED = ("WARNING: student code ran UNCONFINED (no sandbox: --unconfined); these grades are not "
              "protected against tampering.")


def write_reports(results: list[dict], out_dir: Path, *, assignment: str, profile: str,
                  data_note: str | None = None) -> dict[str, Path]:
    """Write every report for *assignment* into *out_dir* and return the paths.

    Keys: ``grades_csv``, ``questions_csv``, ``question_matrix_csv``, ``nbgrader_grades_csv``,
    ``flagged_for_review_csv``, ``summary_md``,
    ``grade_distribution_png``, ``question_difficulty_png``, ``gradescope/<student>`` and
    ``feedback/<student>``. Results of other assignments are ignored. An LMS intake's
    ``intake.csv`` in *out_dir* adds a ``late`` column to grades.csv and an intake section to the summary.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mine = [r for r in results if r.get("assignment", assignment) == assignment]
    if len(mine) < len(results):
        log.warning("ignoring %d results of other assignments", len(results) - len(mine))
    note = run_note(profile, data_served(mine), data_note)
    if any(r.get("sandbox") == "unconfined" for r in mine):
        note = UNCONFINED + " " + note
    cells = cells_frame(mine)
    grades = grades_frame(cells)
    questions = questions_frame(cells)

    intake = manifest.read(out_dir)
    paths = write_csvs(cells, out_dir, late=manifest.late_by_student(intake) if intake is not None else None)
    paths["nbgrader_grades_csv"] = merge_nbgrader_exports(mine, out_dir / "nbgrader_grades.csv")
    paths["flagged_for_review_csv"] = write_flags(mine, out_dir / "flagged_for_review.csv")
    paths["manual_to_grade_csv"] = write_sheet(mine, out_dir)
    paths["summary_md"] = out_dir / "summary.md"
    paths["summary_md"].write_text(
        summary_markdown(cells, grades, questions, assignment=assignment, note=note, intake=intake),
        encoding="utf-8")
    paths["grade_distribution_png"] = plot_distribution(grades, out_dir / "grade_distribution.png")
    paths["question_difficulty_png"] = plot_difficulty(questions, out_dir / "question_difficulty.png")
    for student, path in write_gradescope(cells, mine, out_dir, note=note).items():
        paths[f"gradescope/{student}"] = path
    for student, path in write_feedback(cells, mine, out_dir, assignment=assignment,
                                        profile=profile, data_note=data_note).items():
        paths[f"feedback/{student}"] = path
    return paths
