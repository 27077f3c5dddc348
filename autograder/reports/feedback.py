"""Per-student ``feedback/<student>/index.html``: scores, messages, run profile and data, links."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from .html import ENV
from .naming import safe_component
from .provenance import data_served, run_note
from .tables import notebook_status

_TEMPLATE = ENV.from_string("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Feedback: {{ student }} / {{ assignment }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }
td.msg { white-space: pre-wrap; font-family: monospace; font-size: 90%; }
.bad { color: #a00; } .pending { color: #a60; } .note { background: #f4f4f4; padding: .5em; }
</style>
</head>
<body>
<h1>{{ assignment }}: feedback for {{ student }}</h1>
<p class="note">{{ note }}</p>
<p>Autograded score: <strong>{{ auto_score }} / {{ auto_max }}</strong>.
{% if manual_max %} Hand-graded questions: {{ manual_max }} points
{% if pending %}({{ pending }} points not graded yet){% endif %}.{% endif %}</p>
{% for nb in notebooks %}
<h2>{{ nb.notebook }}</h2>
<p>Status: {% if nb.status == "graded" %}graded{% else %}<span class="bad">{{ nb.status }}</span>
{% if nb.reason %} ({{ nb.reason }}){% endif %}{% endif %}
{% if nb.link %} &middot; <a href="{{ nb.link }}">nbgrader feedback for this notebook</a>{% endif %}
</p>
<table>
<tr><th>Cell</th><th>Question</th><th>Kind</th><th>Score</th><th>Message</th></tr>
{% for c in nb.cells %}
<tr><td>{{ c.grade_id }}</td><td>{{ c.question }}</td><td>{{ c.kind }}</td>
<td{% if c.pending %} class="pending"{% endif %}>{{ c.score }}</td><td class="msg">{{ c.message }}</td></tr>
{% endfor %}
</table>
{% endfor %}
</body>
</html>
""")


def _fmt(x: float) -> str:
    return f"{x:g}"


def _link(out_dir: Path, page: Path, target: str | None) -> str | None:
    """Relative URL from *page* to *target* (relative to *out_dir*), if that file exists."""
    if not target or not (out_dir / target).is_file():
        return None
    rel = os.path.relpath(out_dir / target, page.parent)
    return quote(Path(rel).as_posix())


def render_student(cells: pd.DataFrame, student: str, *, assignment: str, note: str,
                   links: dict[str, str | None] | None = None) -> str:
    """HTML for one student; *links* maps notebook to a relative URL of its nbgrader feedback."""
    links = links or {}
    mine = cells[cells["student"] == student]
    notebooks = []
    for nb in notebook_status(mine).itertuples(index=False):
        rows = mine[mine["notebook"] == nb.notebook]
        notebooks.append({
            "notebook": nb.notebook, "status": nb.status, "reason": nb.reason,
            "link": links.get(nb.notebook),
            "cells": [{
                "grade_id": c.grade_id, "question": c.question, "kind": c.kind,
                "pending": c.needs_manual,
                "score": (f"– / {_fmt(c.max_score)} (graded by hand, pending)" if c.needs_manual
                          else f"{_fmt(c.score)} / {_fmt(c.max_score)}"),
                "message": c.message,
            } for c in rows.itertuples(index=False)],
        })
    auto = mine[mine["kind"] == "auto"]
    manual = mine[mine["kind"] != "auto"]
    return _TEMPLATE.render(
        student=student, assignment=assignment, note=note, notebooks=notebooks,
        auto_score=_fmt(float(auto["score"].fillna(0).sum())), auto_max=_fmt(float(auto["max_score"].sum())),
        manual_max=_fmt(float(manual["max_score"].sum())) if len(manual) else "",
        pending=_fmt(float(mine.loc[mine["needs_manual"], "max_score"].sum())) if mine["needs_manual"].any() else "",
    )


def write_feedback(cells: pd.DataFrame, results: Iterable[dict], out_dir: Path, *,
                   assignment: str, profile: str, data_note: str | None = None) -> dict[str, Path]:
    """Write ``feedback/<student>/index.html`` for every student; return the paths by student."""
    out_dir = Path(out_dir)
    by_student: dict[str, list[dict]] = {}
    for result in results:
        by_student.setdefault(str(result.get("student", "")), []).append(result)
    paths: dict[str, Path] = {}
    for student in dict.fromkeys(cells["student"]):
        page = out_dir / "feedback" / safe_component(student) / "index.html"
        mine = by_student.get(student, [])
        links = {str(r.get("notebook", "")): _link(out_dir, page, r.get("feedback_html")) for r in mine}
        note = run_note(profile, data_served(mine), data_note)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_student(cells, student, assignment=assignment, note=note, links=links),
                        encoding="utf-8")
        paths[student] = page
    return paths
