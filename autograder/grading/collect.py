"""Find each student's notebooks and say which assignment notebook each one is.

Accepted layouts under the submissions folder:
  <student>/<assignment>/*.ipynb   (nbgrader's own)      <student>/*.ipynb
  <student>.zip                    (an LMS download; any folder depth inside)
and the whole folder may itself be one .zip (a class download from the LMS).
Notebooks are identified by the nbgrader cell ids they contain, so a renamed file
("03-keras-mnist (1).ipynb", "Copy of ...") is still graded as the right notebook.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import nbformat

from ..archives import unpack

K = TypeVar("K")


@dataclass
class Submission:
    student: str
    notebooks: dict[str, Path] = field(default_factory=dict)   # expected name -> submitted file
    problems: dict[str, str] = field(default_factory=dict)     # expected name -> why it cannot be graded
    notes: list[str] = field(default_factory=list)


def grade_ids(path: Path) -> set[str]:
    """The nbgrader grade ids of a notebook's cells (whatever shape its JSON has: none for junk)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    ids = set()
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        grader = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = grader.get("grade_id") if isinstance(grader, dict) else None
        if isinstance(grade_id, str):
            ids.add(grade_id)
    return ids


def expected_notebooks(release_dir: Path) -> dict[str, set[str]]:
    return {p.stem: grade_ids(p) for p in sorted(Path(release_dir).glob("*.ipynb"))}


def _notebook_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and "__MACOSX" not in p.parts)


def _unpack(zip_path: Path, into: Path) -> Path:
    target = into / zip_path.stem
    shutil.rmtree(target, ignore_errors=True)
    return unpack(zip_path, target)


def cell_similarity(ids: set[str], wanted: set[str]) -> float:
    """How alike two sets of nbgrader cell ids are (shared over all): 1.0 for the same notebook."""
    return len(ids & wanted) / len(ids | wanted) if ids | wanted else 0.0


def most_similar(ids: set[str], notebooks: dict[K, set[str]],
                 named: Callable[[K], bool] = lambda key: False) -> K | None:
    """The key of the notebook whose cell ids are most like ``ids`` (``named``, the file's name
    matching, breaks a tie); None when none shares a cell. Two notebooks of one assignment may share
    a cell id (an introduction), never most of them."""
    scored = [(cell_similarity(ids, wanted), named(key), n, key)
              for n, (key, wanted) in enumerate(notebooks.items()) if ids & wanted]
    return max(scored, key=lambda s: (s[0], s[1], -s[2]))[3] if scored else None


def identify(student: str, files: list[Path], expected: dict[str, set[str]]) -> Submission:
    sub = Submission(student)
    candidates: list[tuple[int, str, Path]] = []
    for path in files:
        try:
            ids = grade_ids(path)
            nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            name = path.stem if path.stem in expected else None
            reason = f"{path.name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"
            if name:
                sub.problems[name] = reason
            else:
                sub.notes.append(reason)
            continue
        for name, wanted in expected.items():
            overlap = len(ids & wanted)
            if overlap:
                candidates.append((overlap + (1000 if path.stem == name else 0), name, path))
    for _, name, path in sorted(candidates, key=lambda c: -c[0]):
        if name in sub.notebooks or path in sub.notebooks.values():
            continue
        sub.notebooks[name] = path
        sub.problems.pop(name, None)
        if path.stem != name:
            sub.notes.append(f"{path.name} graded as {name}.ipynb (identified by its cells)")
    for name in expected:
        if name not in sub.notebooks and name not in sub.problems:
            sub.problems[name] = f"{name}.ipynb was not submitted"
    return sub


def collect(submissions: Path, assignment: str, release_dir: Path, scratch: Path) -> list[Submission]:
    """All submissions in a folder, each with its notebooks identified."""
    submissions = Path(submissions)
    if submissions.is_file() and submissions.suffix == ".zip":
        try:
            submissions = _unpack(submissions, Path(scratch) / "class")
        except (zipfile.BadZipFile, ValueError) as exc:
            raise ValueError(f"{submissions}: cannot unpack the class download ({exc})") from exc
        entries = [e for e in submissions.iterdir() if not e.name.startswith((".", "__MACOSX"))]
        if len(entries) == 1 and entries[0].is_dir() and not list(entries[0].glob("*.ipynb")):
            submissions = entries[0]          # the zip wraps everything in one top folder
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions}: the submissions folder does not exist")
    expected = expected_notebooks(release_dir)
    found = []
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            folder = entry / assignment if (entry / assignment).is_dir() else entry
            found.append(identify(entry.name, _notebook_files(folder), expected))
        elif entry.suffix == ".zip":
            try:
                folder = _unpack(entry, Path(scratch) / "unzipped")
            except (zipfile.BadZipFile, ValueError) as exc:
                sub = Submission(entry.stem)
                sub.problems = {n: f"{entry.name} could not be unpacked: {exc}" for n in expected}
                found.append(sub)
                continue
            found.append(identify(entry.stem, _notebook_files(folder), expected))
    return found
