"""Per-cell, per-student and per-question tables (pandas) and their CSV files."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .naming import natural_key

log = logging.getLogger(__name__)

CELL_COLUMNS = [
    "student", "assignment", "notebook", "status", "reason", "grade_id", "question",
    "kind", "score", "max_score", "needs_manual", "message",
]
GRADE_COLUMNS = [
    "student", "auto_score", "auto_max", "manual_score", "manual_pending_points", "manual_max",
    "total_so_far", "max_total", "percent_auto", "status",
]
QUESTION_COLUMNS = ["student", "question", "notebook", "score", "max_score", "status"]
NOTEBOOK_PREFIX = "auto:"  # grades_frame adds one "auto:<notebook>" column per notebook
MISSING_REASON = "no result for this notebook"
_DECIMALS = 4


def _cell_row(result: dict, cell: dict, index: int) -> dict:
    score = cell.get("score")
    needs_manual = bool(cell.get("needs_manual")) or score is None
    return {
        "student": str(result.get("student", "")),
        "assignment": str(result.get("assignment", "")),
        "notebook": str(result.get("notebook", "")),
        "status": str(result.get("status") or "graded"),
        "reason": str(result.get("reason") or ""),
        "grade_id": str(cell.get("grade_id", "")),
        "question": str(cell.get("question") or cell.get("grade_id", "")),
        "kind": str(cell.get("kind") or "auto"),
        "score": np.nan if needs_manual else float(score),
        "max_score": float(cell.get("max_score") or 0.0),
        "needs_manual": needs_manual,
        "message": str(cell.get("message") or ""),
        "_order": index,
    }


def _latest_per_notebook(results: Iterable[dict]) -> list[dict]:
    """Keep one result per (student, assignment, notebook): the last one given."""
    latest: dict[tuple[str, str, str], dict] = {}
    for result in results:
        key = (str(result.get("student", "")), str(result.get("assignment", "")),
               str(result.get("notebook", "")))
        if key in latest:
            log.warning("duplicate result for %s/%s/%s; keeping the last one", *key)
        latest[key] = result
    return list(latest.values())


def _fill_missing_notebooks(rows: list[dict]) -> list[dict]:
    """Give every student every notebook some student has, absent ones as status "missing"."""
    template: dict[tuple[str, str], dict[str, dict]] = {}
    have: set[tuple[str, str, str]] = set()
    for row in rows:
        nb = (row["assignment"], row["notebook"])
        template.setdefault(nb, {}).setdefault(row["grade_id"], row)
        have.add((row["student"], *nb))
    filled = list(rows)
    for student in sorted({row["student"] for row in rows}):
        for nb, cells in template.items():
            if (student, *nb) in have:
                continue
            for cell in cells.values():
                filled.append({**cell, "student": student, "status": "missing",
                               "reason": MISSING_REASON, "score": 0.0, "needs_manual": False,
                               "message": MISSING_REASON})
    return filled


def cells_frame(results: Iterable[dict]) -> pd.DataFrame:
    """One row per student/notebook/cell, sorted by student, notebook and cell order.

    A cell flagged ``needs_manual`` (or without a score) is pending: ``score`` NaN. When several
    results cover one student/notebook the last wins; a notebook some students have and another
    lacks is added for that student with status ``missing`` and score 0.
    """
    rows = [
        _cell_row(result, cell, i)
        for result in _latest_per_notebook(results)
        for i, cell in enumerate(result.get("cells") or [])
    ]
    rows = _fill_missing_notebooks(rows)
    rows.sort(key=lambda r: (natural_key(r["student"]), r["assignment"],
                             natural_key(r["notebook"]), r["_order"]))
    frame = pd.DataFrame(rows, columns=[*CELL_COLUMNS, "_order"]).drop(columns="_order")
    return frame.astype({"score": "float64", "max_score": "float64", "needs_manual": "bool"})


def _sorted_unique(values: Iterable[str]) -> list[str]:
    return sorted(set(values), key=natural_key)


def notebook_status(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per student/notebook: status and reason."""
    nbs = cells.drop_duplicates(["student", "assignment", "notebook"])
    return nbs[["student", "assignment", "notebook", "status", "reason"]].reset_index(drop=True)


def _status_summary(nbs: pd.DataFrame) -> str:
    bad = nbs[nbs["status"] != "graded"]
    return "; ".join(f"{r.notebook}: {r.status}" for r in bad.itertuples()) or "ok"


def grades_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Per student: auto and manual points, totals so far, percent_auto, status, per-notebook auto."""
    students = _sorted_unique(cells["student"])
    notebooks = _sorted_unique(cells["notebook"])
    graded = cells["score"].fillna(0.0)
    is_auto = cells["kind"] == "auto"
    pending = cells["needs_manual"]

    def per_student(values: pd.Series, mask: pd.Series) -> pd.Series:
        return values[mask].groupby(cells["student"][mask]).sum().reindex(students, fill_value=0.0)

    out = pd.DataFrame(index=pd.Index(students, name="student"))
    out["auto_score"] = per_student(graded, is_auto)
    out["auto_max"] = per_student(cells["max_score"], is_auto)
    out["manual_score"] = per_student(graded, ~is_auto)
    out["manual_pending_points"] = per_student(cells["max_score"], pending)
    out["manual_max"] = per_student(cells["max_score"], ~is_auto)
    out["total_so_far"] = out["auto_score"] + out["manual_score"]
    out["max_total"] = out["auto_max"] + out["manual_max"]
    out["percent_auto"] = (100.0 * out["auto_score"] / out["auto_max"].where(out["auto_max"] > 0))
    nbs = notebook_status(cells)
    out["status"] = [_status_summary(nbs[nbs["student"] == s]) for s in students]
    for nb in notebooks:
        mask = is_auto & (cells["notebook"] == nb)
        column = per_student(graded, mask)
        present = cells.loc[cells["notebook"] == nb, "student"].unique()
        out[NOTEBOOK_PREFIX + nb] = column.where(column.index.isin(present))
    numeric = out.select_dtypes("number").columns
    out[numeric] = out[numeric].round(_DECIMALS)
    return out.reset_index()


def notebook_columns(grades: pd.DataFrame) -> list[str]:
    """The per-notebook auto score columns of a grades frame, in order."""
    return [c for c in grades.columns if str(c).startswith(NOTEBOOK_PREFIX)]


def _question_status(group: pd.DataFrame, score: float, max_score: float) -> str:
    failed = group.loc[group["status"] != "graded", "status"]
    if len(failed):
        return str(failed.iloc[0])
    if group["needs_manual"].any():
        return "manual_pending"
    if score >= max_score:
        return "full"
    return "zero" if score <= 0 else "partial"


def questions_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Per student x question (long format): graded score so far, max_score and a status.

    ``score`` sums the scored cells and is NaN only when every cell of the question awaits a
    manual grade; status is the notebook failure (e.g. ``timeout``), ``manual_pending``,
    ``full``, ``partial`` or ``zero``.
    """
    rows = []
    for (student, question), group in cells.groupby(["student", "question"], sort=False):
        scored = group["score"].dropna()
        score = float(scored.sum()) if len(scored) else np.nan
        max_score = float(group["max_score"].sum())
        rows.append({
            "student": student, "question": question,
            "notebook": "+".join(dict.fromkeys(group["notebook"])),
            "score": score, "max_score": max_score,
            "status": _question_status(group, 0.0 if np.isnan(score) else score, max_score),
        })
    rows.sort(key=lambda r: (natural_key(r["student"]), natural_key(r["question"])))
    frame = pd.DataFrame(rows, columns=QUESTION_COLUMNS)
    frame[["score", "max_score"]] = frame[["score", "max_score"]].astype("float64").round(_DECIMALS)
    return frame


def question_matrix(questions: pd.DataFrame) -> pd.DataFrame:
    """Students x questions pivot of ``score`` (NaN where a question awaits manual grading)."""
    matrix = questions.pivot(index="student", columns="question", values="score")
    matrix = matrix.reindex(index=_sorted_unique(questions["student"]),
                            columns=_sorted_unique(questions["question"]))
    matrix.index.name, matrix.columns.name = "student", None
    return matrix


def question_difficulty(questions: pd.DataFrame) -> pd.DataFrame:
    """Per question: max, mean score fraction over the students with a score, how many scored/all."""
    q = questions[questions["max_score"] > 0].copy()
    q["fraction"] = q["score"] / q["max_score"]
    agg = q.groupby("question").agg(max_score=("max_score", "max"), mean_fraction=("fraction", "mean"),
                                    scored=("fraction", "count"), students=("student", "nunique"))
    agg = agg.reindex(_sorted_unique(q["question"]))
    agg.index.name = "question"
    return agg.reset_index()


def write_csvs(cells: pd.DataFrame, out_dir: Path, *, late: dict[str, str] | None = None) -> dict[str, Path]:
    """Write ``grades.csv``, ``questions.csv`` and ``question_matrix.csv`` into *out_dir*; with
    ``late`` (student -> "yes"/"no"/"" from an LMS intake) grades.csv ends with a ``late`` column."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    questions = questions_frame(cells)
    paths = {
        "grades_csv": out_dir / "grades.csv",
        "questions_csv": out_dir / "questions.csv",
        "question_matrix_csv": out_dir / "question_matrix.csv",
    }
    grades = grades_frame(cells)
    if late is not None:
        grades["late"] = [late.get(student, "") for student in grades["student"]]
    grades.to_csv(paths["grades_csv"], index=False)
    questions.to_csv(paths["questions_csv"], index=False)
    question_matrix(questions).to_csv(paths["question_matrix_csv"])
    return paths
