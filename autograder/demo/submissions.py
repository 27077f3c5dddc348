"""Write the demo submissions: the reference solution, the blank release, and wrong answers."""
from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path
from typing import Any, Callable

import nbformat

ROSTERS = Path(__file__).with_name("rosters")        # <assignment>.toml: the demo students of an assignment
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)


def roster_path(assignment: str) -> Path:
    return ROSTERS / f"{assignment}.toml"


def assignments() -> list[str]:
    """Assignments that have demo students."""
    return sorted(p.stem for p in ROSTERS.glob("*.toml"))


def students(assignment: str = "cnn_foundations", path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The roster's students; each knows the notebooks it hands in (``notebooks``: None for all of them).

    With ``edited_only = true`` at the top of a roster, a student whose edits touch some notebooks hands
    in only those (as a student who submitted part of the assignment), so each wrong answer costs one
    notebook's grading time; a student's own ``notebooks = [...]`` overrides that."""
    with open(path or roster_path(assignment), "rb") as fh:
        data = tomllib.load(fh)
    roster = data["students"]
    for spec in roster.values():
        edited = sorted({e["notebook"] for e in spec.get("edit", [])})
        spec.setdefault("notebooks", edited if data.get("edited_only") and edited else None)
    return roster


def answered(source_nb: Path, release_nb: Path) -> nbformat.NotebookNode:
    """The release notebook with every answer cell filled in from the source (what a perfect student hands in)."""
    source = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nbformat.read(source_nb, 4).cells}
    nb = nbformat.read(release_nb, 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in source:
            cell.source = SOLUTION_MARKERS.sub("", source[meta["grade_id"]].source)
    return nb


def apply_edit(nb: nbformat.NotebookNode, edit: dict[str, Any], where: str) -> None:
    index = next((i for i, c in enumerate(nb.cells)
                  if c.metadata.get("nbgrader", {}).get("grade_id") == edit["cell"]), None)
    if index is None:
        raise KeyError(f"{where}: no cell {edit['cell']!r} in {edit['notebook']}")
    if edit.get("delete"):
        del nb.cells[index]
        return
    cell = nb.cells[index]
    if "source" in edit:                     # the whole cell as the student wrote it
        cell.source = edit["source"].strip("\n")
        return
    if edit["replace"] not in cell.source:
        raise ValueError(f"{where}: text to replace not found in cell {edit['cell']!r}: {edit['replace']!r}")
    cell.source = cell.source.replace(edit["replace"], edit["with"], 1)


def write_all(source_dir: Path, release_dir: Path, out: Path, table: Path | None = None, *,
              only: list[str] | None = None,
              keep: Callable[[Path], bool] = lambda notebook: True) -> dict[str, dict[str, Any]]:
    """One folder per demo student under ``out`` (nbgrader layout <student>/<notebook>.ipynb), from
    the roster of the assignment ``source_dir`` holds (or ``table``); ``only`` some students, ``keep``
    only the release notebooks it accepts."""
    table = table or roster_path(Path(source_dir).name)
    roster = {name: spec for name, spec in students(path=table).items() if only is None or name in only}
    shutil.rmtree(out, ignore_errors=True)
    for student, spec in roster.items():
        folder = out / student
        folder.mkdir(parents=True)
        handed_in = spec.get("notebooks")
        for release_nb in sorted(filter(keep, Path(release_dir).glob("*.ipynb"))):
            if handed_in is not None and release_nb.stem not in handed_in:
                continue
            if spec.get("base") == "release":
                nb = nbformat.read(release_nb, 4)
            else:
                nb = answered(Path(source_dir) / release_nb.name, release_nb)
            for edit in spec.get("edit", []):
                if edit["notebook"] == release_nb.stem:
                    apply_edit(nb, edit, f"{table.name} [{student}]")
            nbformat.write(nb, folder / release_nb.name)
    return roster
