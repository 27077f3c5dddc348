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
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .grading.course import config_for

    cfg = config_for(root)
    cfg.CourseDirectory.db_url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'gradebook.db'}"
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    done = []
    for name in names or assignments(root / "source"):
        for step in (api.generate_assignment, api.generate_solution):
            result = step(name, force=True)
            if not result.get("success"):
                raise RuntimeError(f"nbgrader {step.__name__} {name} failed:\n{result.get('log', '')}{result.get('error', '')}")
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
