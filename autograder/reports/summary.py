"""Class summary: ``summary.md``, two plots, and a fixed-width grade table for the terminal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no global state, Agg canvas by default
from matplotlib.ticker import MaxNLocator

from .naming import md_cell
from .tables import NOTEBOOK_PREFIX, notebook_columns, notebook_status, question_difficulty


def _fmt(x: float) -> str:
    return "–" if pd.isna(x) else f"{x:g}"


def format_table(grades: pd.DataFrame) -> str:
    """Plain-text fixed-width table: student, auto score/max, auto score per notebook, status."""
    nb_cols = notebook_columns(grades)
    header = ["student", "auto", *(c[len(NOTEBOOK_PREFIX):] for c in nb_cols), "status"]
    rows = [[str(r["student"]), f"{_fmt(r['auto_score'])}/{_fmt(r['auto_max'])}",
             *(_fmt(r[c]) for c in nb_cols), str(r["status"])] for _, r in grades.iterrows()]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = range(1, len(header) - 1)

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def intake_lines(rows: list[dict[str, str]]) -> list[str]:
    """The LMS intake's news for the summary: late, superseded, unknown and missing submitters."""
    def of(status: str, test=lambda r: True) -> list[dict[str, str]]:
        return [r for r in rows if r.get("status") == status and test(r)]

    late = [r["student_id"] for r in of("submitted", lambda r: r.get("late") == "yes")]
    again = [f"{r['student_id']} (superseded: {r['superseded']})" for r in of("submitted", lambda r: r.get("superseded"))]
    strangers = [f"{r.get('lms_key')} {r.get('lms_name', '')}".strip() for r in of("not in roster")]
    missing = [r["student_id"] for r in of("no submission")]
    unread = [r.get("kept", "") for r in of("unrecognised file")]
    return ["## LMS intake", "",
            f"- late: {', '.join(map(md_cell, late)) or 'none'}",
            f"- resubmissions (the latest upload counts): {', '.join(map(md_cell, again)) or 'none'}",
            f"- in the roster, no submission: {', '.join(map(md_cell, missing)) or 'none'}",
            f"- submitters not in the roster (not graded): {', '.join(map(md_cell, strangers)) or 'none'}",
            f"- unrecognised file names (not graded): {', '.join(map(md_cell, unread)) or 'none'}",
            "- details: intake.csv", ""]


def summary_markdown(cells: pd.DataFrame, grades: pd.DataFrame, questions: pd.DataFrame, *,
                     assignment: str, note: str, intake: list[dict[str, str]] | None = None) -> str:
    """The class summary as Markdown (with an LMS intake section when ``intake`` rows are given)."""
    nbs = notebook_status(cells)
    pct = grades["percent_auto"]
    out = ([note.split(". ", 1)[0] + ".", ""] if note.startswith("WARNING") else []) + [f"# Grading summary: {assignment}", "", note, "",
           f"- students: {len(grades)}",
           f"- notebook results: {len(nbs)} "
           + "(" + ", ".join(f"{k}: {v}" for k, v in nbs["status"].value_counts().sort_index().items()) + ")",
           f"- students with every notebook graded: {int((grades['status'] == 'ok').sum())}",
           f"- autograded percent: mean {_fmt(round(pct.mean(), 2))}, median {_fmt(round(pct.median(), 2))}",
           f"- total so far: mean {_fmt(round(grades['total_so_far'].mean(), 2))}, "
           f"median {_fmt(round(grades['total_so_far'].median(), 2))} (of {_fmt(grades['max_total'].max())})",
           f"- manual points still to grade: {_fmt(grades['manual_pending_points'].sum())} "
           f"({int((grades['manual_pending_points'] > 0).sum())} students)",
           "", "## Questions", "", "| question | max | mean score fraction | scored / students |", "|---|---:|---:|---:|"]
    for r in question_difficulty(questions).itertuples(index=False):
        out.append(f"| {md_cell(r.question)} | {_fmt(r.max_score)} | {_fmt(round(r.mean_fraction, 3))} | {r.scored} / {r.students} |")
    out += ["", "## Failures", ""]
    failed = nbs[nbs["status"] != "graded"]
    if failed.empty:
        out.append("None: every notebook ran to completion.")
    else:
        out += ["| student | notebook | status | reason |", "|---|---|---|---|"]
        out += [f"| {md_cell(r.student)} | {md_cell(r.notebook)} | {md_cell(r.status)} | {md_cell(r.reason)} |"
                for r in failed.itertuples(index=False)]
    out += [""] + (intake_lines(intake) if intake is not None else [])
    out += ["## Grades", "", "```", format_table(grades), "```", ""]
    return "\n".join(out)


def plot_distribution(grades: pd.DataFrame, path: Path) -> Path:
    """Histogram of ``percent_auto`` in 10-point bins."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    values = grades["percent_auto"].dropna()
    ax.hist(values, bins=range(0, 101, 10), color="#4c72b0", edgecolor="white")
    ax.set(xlim=(0, 100), xlabel="autograded score (%)", ylabel="students",
           title=f"Grade distribution (n={len(values)})")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def plot_difficulty(questions: pd.DataFrame, path: Path) -> Path:
    """Bar chart of the mean score fraction per question."""
    diff = question_difficulty(questions)
    fig = Figure(figsize=(max(4.0, 0.5 * len(diff) + 2), 4))
    ax = fig.add_subplot()
    ax.bar(diff["question"].astype(str), diff["mean_fraction"].fillna(0.0), color="#dd8452")
    ax.set(ylim=(0, 1), xlabel="question", ylabel="mean score fraction", title="Question difficulty")
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
