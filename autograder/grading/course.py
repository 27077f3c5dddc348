"""Isolated nbgrader course directories: one template per assignment, one copy per task.

A task is one notebook of one submission. It gets its own course directory (source, gradebook,
submitted, autograded, feedback) so that a crash, a hang or a corrupt notebook in one task can never
touch another task's grades, and tasks can run in parallel without sharing a SQLite gradebook.
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from . import gradebook
from .nbconfig import course_config

STAMP = ".template-stamp"


def source_digest(source_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(source_dir.rglob("*.ipynb")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def config_for(root: Path, *, cell_timeout: int = 600) -> Config:
    cfg = course_config(cell_timeout=cell_timeout)
    cfg.CourseDirectory.root = str(root)
    return cfg


def build_template(source_root: Path, assignment: str, work: Path) -> Path:
    """A course directory with the assignment's source and a populated gradebook (reused if current)."""
    src = Path(source_root) / assignment
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such assignment in the source folder")
    template = Path(work) / "template" / assignment
    digest = source_digest(src)
    if (template / STAMP).is_file() and (template / STAMP).read_text() == digest:
        return template
    shutil.rmtree(template, ignore_errors=True)
    shutil.copytree(src, template / "source" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    gradebook.create(template / "gradebook.db")     # nbgrader would ask a subprocess for its schema
    cfg = config_for(template)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader generate_assignment failed for {assignment}:\n{result.get('log', '')}"
                           f"{result.get('error', '')}")
    (template / STAMP).write_text(digest)
    return template


@dataclass(frozen=True)
class TaskDir:
    root: Path
    assignment: str
    student: str
    notebook: str        # notebook name without .ipynb

    @property
    def submitted(self) -> Path:
        return self.root / "submitted" / self.student / self.assignment / f"{self.notebook}.ipynb"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded" / self.student / self.assignment / f"{self.notebook}.ipynb"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback" / self.student / self.assignment / f"{self.notebook}.html"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"


def make_task_dir(template: Path, root: Path, assignment: str, student: str, notebook: str,
                  submitted: Path) -> TaskDir:
    """Copy the template and put one submitted notebook where nbgrader expects it."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copytree(template / "source", root / "source")
    shutil.copy2(template / "gradebook.db", root / "gradebook.db")
    task = TaskDir(root, assignment, student, notebook)
    task.submitted.parent.mkdir(parents=True)
    shutil.copyfile(submitted, task.submitted)
    return task
