"""Generate ``release/`` and ``solutions/`` from ``source/`` with nbgrader, and verify them."""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from .grading.nbconfig import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[1]
LEAKS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|BEGIN MARK SCHEME")


def assignments(source: Path = REPO / "source") -> list[str]:
    return [a for a in ASSIGNMENTS if (source / a).is_dir()]


def generate(root: Path = REPO, names: list[str] | None = None) -> list[str]:
    """Run generate_assignment and generate_solution for each assignment of the course at ``root``."""
    from nbgrader.converters import GenerateAssignment, GenerateSolution
    from nbgrader.coursedir import CourseDirectory

    from .grading import gradebook
    from .grading.course import config_for

    done = []
    with tempfile.TemporaryDirectory() as tmp:
        gradebook.create(Path(tmp) / "gradebook.db")     # nbgrader would ask a subprocess for its schema
        for name in names or assignments(Path(root) / "source"):
            for converter in (GenerateAssignment, GenerateSolution):
                cfg = config_for(Path(root))
                cfg.CourseDirectory.db_url = f"sqlite:///{Path(tmp) / 'gradebook.db'}"
                cfg.CourseDirectory.assignment_id = name
                cfg.Exchange.root = tmp
                cfg.BaseConverter.force = True   # regenerate over an existing release
                coursedir = CourseDirectory(config=cfg)
                try:
                    converter(coursedir=coursedir, config=cfg).start()
                except Exception as exc:   # nbgrader raises NbGraderException after logging details
                    raise RuntimeError(f"nbgrader {converter.__name__} failed for {name}: {exc}") from exc
            done.append(name)
    return done


def _cells(path: Path) -> list[tuple[str, str]]:
    nb = nbformat.read(path, 4)
    return [(c.cell_type, c.source) for c in nb.cells]


def leaks(release_dir: Path) -> list[str]:
    """Solution or hidden-test text found in a release (there must be none)."""
    found = []
    for path in sorted(Path(release_dir).rglob("*.ipynb")):
        for i, (_, source) in enumerate(_cells(path)):
            if LEAKS.search(source):
                found.append(f"{path.name} cell {i}: {LEAKS.search(source).group(0)}")
    return found


def out_of_sync(root: Path = REPO) -> list[str]:
    """Notebooks of ``release/`` and ``solutions/`` that differ from a fresh generation from ``source/``."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        shutil.copytree(root / "source", fresh / "source")
        generate(fresh)
        for kind in ("release", "solutions"):
            for name in assignments(root / "source"):
                want = {p.name: p for p in (fresh / kind / name).glob("*.ipynb")}
                have = {p.name: p for p in (root / kind / name).glob("*.ipynb")}
                for missing in sorted(set(want) - set(have)):
                    problems.append(f"{kind}/{name}/{missing} is missing")
                for extra in sorted(set(have) - set(want)):
                    problems.append(f"{kind}/{name}/{extra} has no source")
                for nb in sorted(set(want) & set(have)):
                    if _cells(want[nb]) != _cells(have[nb]):
                        problems.append(f"{kind}/{name}/{nb} differs from source/{name}/{nb}")
    return problems
