"""The students' answer code per coding question, read from their notebooks (nothing is executed).

A coding question is the release's answer cells (nbgrader ``solution: true`` code cells) that share
a question prefix in their grade ids (``q10_data``, ``q10_model`` -> ``q10``), in notebook order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ...grading import collect

_QUESTION = re.compile(r"^(q\d+)(?:_|$)", re.I)
MAX_CHARS = 50_000      # of one answer cell: the rest of a longer cell is not compared


@dataclass
class Question:
    notebook: str
    question: str
    cells: dict[str, str] = field(default_factory=dict)      # grade_id -> release (template) source

    @property
    def label(self) -> str:
        return f"{self.question[:1].upper()}{self.question[1:]} ({self.notebook})"


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def questions(release_dir: Path) -> list[Question]:
    """The coding questions of an assignment's release notebooks, in notebook order."""
    found: dict[tuple[str, str], Question] = {}
    for path in sorted(Path(release_dir).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            grade_id = _grade_id(cell)
            if cell.cell_type != "code" or not meta.get("solution") or not grade_id:
                continue
            match = _QUESTION.match(grade_id)
            key = (path.stem, match.group(1).lower() if match else grade_id)
            found.setdefault(key, Question(*key)).cells[grade_id] = cell.source
    return list(found.values())


def answer_cells(path: Path) -> dict[str, str]:
    """grade_id -> source of every code cell of a submitted notebook (the first cell of each id)."""
    cells: dict[str, str] = {}
    for cell in nbformat.read(path, as_version=4).cells:
        grade_id = _grade_id(cell)
        if cell.cell_type == "code" and grade_id and grade_id not in cells:
            source = str(cell.source)
            if len(source) > MAX_CHARS:         # cut at a line's end, so what is kept still parses
                source = source[:MAX_CHARS].rsplit("\n", 1)[0]
            cells[grade_id] = source
    return cells


def submitted(folders: list[Path], assignment: str, release_dir: Path,
              scratch: Path) -> tuple[dict[str, dict[str, Path]], list[str]]:
    """student -> notebook name -> submitted file, for every folder of submissions; and the notes
    (notebooks that cannot be read)."""
    notebooks: dict[str, dict[str, Path]] = {}
    notes: list[str] = []
    for folder in folders:
        for sub in collect.collect(Path(folder), assignment, release_dir, scratch):
            notebooks.setdefault(sub.student, {}).update(sub.notebooks)
            notes += [f"{sub.student}: {problem}" for name, problem in sub.problems.items()
                      if "not submitted" not in problem]
    return notebooks, notes


def answers(notebooks: dict[str, dict[str, Path]],
            asked: list[Question]) -> list[tuple[Question, dict[str, dict[str, str]]]]:
    """For each question: student -> grade_id -> source of the question's cells the student's notebook has."""
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for student, files in notebooks.items():
        for name, path in files.items():
            try:
                cells[student, name] = answer_cells(path)
            except Exception:              # unreadable (collect has said so): nothing to compare
                continue
    out = []
    for question in asked:
        per_student = {}
        for student in sorted(notebooks):
            theirs = cells.get((student, question.notebook), {})
            mine = {g: theirs[g] for g in question.cells if g in theirs}
            if mine:
                per_student[student] = mine
        out.append((question, per_student))
    return out
