"""``similarity.csv`` (every pair of every question) and ``similarity.html`` (the top pairs side by side)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..html import ENV

BANNER = ("Evidence for a human to review, not a verdict of misconduct. A high score says that two answers "
          "share long runs of code once names, comments, layout and the order of independent statements "
          "are set aside. Students share code for honest reasons too (the course's examples, the task's "
          "hints, the same tutorial), and a copy can be rewritten until it scores low. Read the code side "
          "by side, and talk to the students, before concluding anything.")

COLUMNS = ["question", "notebook", "student_a", "student_b", "similarity", "a_in_b", "b_in_a",
           "shared_fingerprints", "method"]


@dataclass
class Line:
    number: int
    text: str
    kind: str          # "shared", "template" or ""


@dataclass
class Side:
    student: str
    cells: list[tuple[str, list[Line]]]      # (grade_id, lines)


@dataclass
class Shown:
    rank: int
    similarity: float
    a_in_b: float
    b_in_a: float
    method: str
    left: Side
    right: Side


@dataclass
class Section:
    label: str
    compared: int
    too_short: list[str]
    unanswered: int
    common: int
    rows: list[dict]          # the top pairs, as in the CSV
    shown: list[Shown]


_TEMPLATE = ENV.from_string("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Similarity of answer code: {{ assignment }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; }
.banner { background: #fff4d6; border: 2px solid #c90; padding: .8em 1em; font-size: 105%; max-width: 70em; }
.note { color: #444; max-width: 70em; }
table.pairs { border-collapse: collapse; margin: .5em 0 1em; }
table.pairs th, table.pairs td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.side { display: flex; gap: 1em; align-items: flex-start; margin-bottom: 2em; }
.side > div { flex: 1 1 50%; min-width: 0; }
.code { font-family: ui-monospace, monospace; font-size: 85%; background: #fafafa; border: 1px solid #ddd;
        padding: .4em; overflow-x: auto; }
.code span.line { display: block; white-space: pre; }
.code span.ln { color: #999; display: inline-block; width: 3em; user-select: none; }
.code span.shared { background: #ffd9a8; }
.code span.template { color: #aaa; }
.cell { color: #666; font-size: 80%; margin: .4em 0 .1em; }
</style>
</head>
<body>
<h1>Similarity of answer code: {{ assignment }}</h1>
<p class="banner"><strong>{{ banner }}</strong></p>
<p class="note">Per coding question, every pair of students' answers is compared on the code they wrote:
the release template's lines and code found in at least {{ common_share }} of the answers are left out.
The code is parsed, its comments and docstrings dropped, keyword arguments and independent statements put in
one canonical order, then every name replaced by one symbol (copydetect's token filter); runs of
{{ k }} tokens are hashed and winnowed, so that any shared run of {{ guarantee }} tokens is found. Similarity is the mean share of each answer's fingerprints found in the
other (100% = the same code up to names, comments, layout and statement order). Answers that do not parse
are compared as written ("tokens"). Highlighted lines carry the shared fragments; grey lines are the
template. All pairs are in <code>{{ csv_name }}</code>.</p>
{% if notes %}
<p>Not compared:</p>
<ul>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ul>
{% endif %}
<p>Questions:{% for s in sections %} <a href="#q{{ loop.index }}">{{ s.label }}</a>
{%- if s.rows %} (top {{ "%.0f%%" | format(100 * s.rows[0].similarity) }}){% endif %}{% if not loop.last %},{% endif %}{% endfor %}</p>
{% for s in sections %}
<h2 id="q{{ loop.index }}">{{ s.label }}</h2>
{% if s.compared or s.unanswered or s.too_short %}
<p>{{ s.compared }} answer(s) compared
{%- if s.unanswered %}; {{ s.unanswered }} with nothing beyond the template{% endif %}
{%- if s.too_short %}; {{ s.too_short | length }} too short to compare{% endif %}
{%- if s.common %}; {{ s.common }} fingerprint(s) common to almost every answer ignored{% endif %}.</p>
{% endif %}
{% if s.too_short %}
<details><summary>Too short to compare (fewer than {{ min_tokens }} tokens beyond the template: a few
lines, where any two correct answers look alike)</summary><p>{{ s.too_short | join(", ") }}</p></details>
{% endif %}
{% if s.rows %}
<table class="pairs">
<tr><th>#</th><th>student A</th><th>student B</th><th>similarity</th><th>A's code found in B</th>
<th>B's code found in A</th><th>method</th></tr>
{% for r in s.rows %}
<tr><td class="num">{{ loop.index }}</td><td>{{ r.student_a }}</td><td>{{ r.student_b }}</td>
<td class="num">{{ "%.0f%%" | format(100 * r.similarity) }}</td><td class="num">{{ "%.0f%%" | format(100 * r.a_in_b) }}</td>
<td class="num">{{ "%.0f%%" | format(100 * r.b_in_a) }}</td><td>{{ r.method }}</td></tr>
{% endfor %}
</table>
{% else %}
<p>{{ "No answer handed in." if not (s.compared or s.unanswered or s.too_short) else "Fewer than two answers to compare." }}</p>
{% endif %}
{% for p in s.shown %}
<h3>#{{ p.rank }}: {{ p.left.student }} and {{ p.right.student }}, {{ "%.0f%%" | format(100 * p.similarity) }}</h3>
<div class="side">
{% for side in (p.left, p.right) %}
<div><strong>{{ side.student }}</strong>
{% for grade_id, lines in side.cells %}
<div class="cell">cell {{ grade_id }}</div>
<div class="code">{% for line in lines %}<span class="line {{ line.kind }}"><span class="ln">{{ line.number }}</span>{{ line.text }}</span>{% endfor %}</div>
{% endfor %}
</div>
{% endfor %}
</div>
{% endfor %}
{% endfor %}
</body>
</html>
""")


def write_csv(rows: list[dict], path: Path) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def write_html(sections: list[Section], path: Path, *, assignment: str, csv_name: str, k: int, guarantee: int,
               min_tokens: int, common_share: float, notes: list[str]) -> Path:
    html = _TEMPLATE.render(assignment=assignment, banner=BANNER, sections=sections, csv_name=csv_name, k=k,
                            guarantee=guarantee, min_tokens=min_tokens, common_share=f"{common_share:.0%}",
                            notes=notes)
    path.write_text(html, encoding="utf-8")
    return path
