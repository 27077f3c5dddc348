"""Similarity report: per coding question, how much of each pair of students' answer code is shared.

Reads the submitted notebooks only (nothing runs); writes ``similarity.csv`` (every pair) and
``similarity.html`` (the top pairs side by side, shared fragments highlighted). Evidence for a
human to review, not a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import extract, render, score
from .normalise import Canonical, as_written, canonical, template_statements

__all__ = ["QuestionResult", "compare", "report_line", "write_similarity"]

TABLE_ROWS = 15       # pairs listed per question
SIDE_BY_SIDE = 5      # of which shown side by side


@dataclass
class QuestionResult:
    question: extract.Question
    cells: dict[str, dict[str, str]]            # student -> grade_id -> source (answers compared)
    fingerprints: dict[str, score.Fingerprint]  # of the canonical texts
    written: dict[str, score.Fingerprint]       # of the code as written (when some answer does not parse)
    too_short: list[str]
    unanswered: list[str]
    common: int
    pairs: list[score.Pair]

    def compared(self, pair: score.Pair) -> tuple[score.Fingerprint, score.Fingerprint]:
        """The two fingerprints the pair's score comes from."""
        prints = self.fingerprints if pair.method == "ast" else self.written
        return prints[pair.a], prints[pair.b]


Form = Callable[[str, set[str] | None], Canonical]     # canonical() or as_written()


def _prints(question: extract.Question, answers: dict[str, dict[str, str]], form: Form,
            templates: dict[str, set[str]]) -> tuple[dict[str, score.Fingerprint], set[int]]:
    """Fingerprints of each answer in *form* (template fingerprints dropped), and the template's."""
    template = score.fingerprint([form(src, templates[g]) for g, src in question.cells.items()]).hashes
    template |= score.fingerprint([form(src, None) for src in question.cells.values()]).hashes
    prints = {}
    for student, cells in sorted(answers.items()):
        prints[student] = score.fingerprint([form(src, templates[g]) for g, src in cells.items()])
        prints[student].drop(template)
    return prints, template


def _drop_common(prints: dict[str, score.Fingerprint], template: set[int]) -> int:
    common = score.common_hashes(list(prints.values()))
    for fp in prints.values():
        fp.drop(template | common)
    return len(common)


def compare(question: extract.Question, answers: dict[str, dict[str, str]]) -> QuestionResult:
    """Fingerprint every student's answer to *question* and score every pair."""
    templates = {g: template_statements(src) for g, src in question.cells.items()}
    prints, template = _prints(question, answers, canonical, templates)
    unanswered = [s for s, fp in prints.items() if not fp.hashes]
    too_short = [s for s, fp in prints.items() if fp.hashes and fp.token_coverage < score.MIN_TOKENS]
    kept = {s: fp for s, fp in prints.items() if fp.token_coverage >= score.MIN_TOKENS}
    common = _drop_common(kept, template)
    written: dict[str, score.Fingerprint] = {}
    if not all(fp.parsed for fp in kept.values()):
        written, raw_template = _prints(question, {s: answers[s] for s in kept},
                                        as_written, templates)
        _drop_common(written, raw_template)
    return QuestionResult(question, {s: answers[s] for s in kept}, kept, written, too_short, unanswered, common,
                          score.pairs(kept, written))


def _row(result: QuestionResult, pair: score.Pair) -> dict:
    return {"question": result.question.question, "notebook": result.question.notebook,
            "student_a": pair.a, "student_b": pair.b, "similarity": round(pair.similarity, 4),
            "a_in_b": round(pair.a_in_b, 4), "b_in_a": round(pair.b_in_a, 4),
            "shared_fingerprints": pair.shared, "method": pair.method}


def _side(result: QuestionResult, student: str, shared: set[tuple[int, int]]) -> render.Side:
    cells = []
    for index, (grade_id, source) in enumerate(result.cells[student].items()):
        template = {line.strip() for line in result.question.cells[grade_id].splitlines() if line.strip()}
        lines = [render.Line(n, text, "shared" if (index, n) in shared else
                             "template" if text.strip() in template else "")
                 for n, text in enumerate(source.split("\n"), start=1)]
        cells.append((grade_id, lines))
    return render.Side(student, cells)


def _section(result: QuestionResult) -> render.Section:
    shown = []
    for rank, pair in enumerate(result.pairs[:SIDE_BY_SIDE], start=1):
        if pair.similarity <= 0:
            break
        lines_a, lines_b = score.shared_lines(*result.compared(pair))
        shown.append(render.Shown(rank, pair.similarity, pair.a_in_b, pair.b_in_a, pair.method,
                                  _side(result, pair.a, lines_a), _side(result, pair.b, lines_b)))
    return render.Section(result.question.label, len(result.fingerprints), result.too_short,
                          len(result.unanswered), result.common,
                          [_row(result, p) for p in result.pairs[:TABLE_ROWS]], shown)


def write_similarity(folders: list[Path] | Path, assignment: str, out: Path, *, release_dir: Path,
                     scratch: Path | None = None) -> dict[str, Path]:
    """Compare the answers in the submission *folders* (as ``grade`` takes them) to every coding
    question of *assignment*; write ``similarity.csv`` and ``similarity.html`` into *out*."""
    out = Path(out)
    if not any(Path(release_dir).glob("*.ipynb")):
        raise FileNotFoundError(f"{release_dir}: no release notebooks for assignment {assignment!r}")
    out.mkdir(parents=True, exist_ok=True)
    folders = [Path(folders)] if isinstance(folders, (str, Path)) else [Path(f) for f in folders]
    notebooks, notes = extract.submitted(folders, assignment, Path(release_dir), Path(scratch or out / "work"))
    results = [compare(q, a) for q, a in extract.answers(notebooks, extract.questions(release_dir))]
    rows = [_row(r, p) for r in results for p in r.pairs]
    csv_path = render.write_csv(rows, out / "similarity.csv")
    html_path = render.write_html([_section(r) for r in results], out / "similarity.html",
                                  assignment=assignment, csv_name=csv_path.name, k=score.K,
                                  guarantee=score.GUARANTEE, min_tokens=score.MIN_TOKENS,
                                  common_share=score.COMMON_SHARE, notes=notes)
    return {"similarity_csv": csv_path, "similarity_html": html_path}


def report_line(paths: dict[str, Path]) -> str:
    """The line that says where the report is, and what it is."""
    return (f"similarity report (evidence for a human to review, not a verdict): {paths['similarity_html']} "
            f"(every pair: {paths['similarity_csv'].name})")
