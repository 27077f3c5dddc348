"""The template's gradebook: created without nbgrader's ``alembic`` subprocess, and the same as the
one nbgrader creates (tables, columns and recorded schema revision)."""
from __future__ import annotations

import sqlite3

import pytest

from autograder.grading import gradebook


def _schema(path) -> dict:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {"columns": {t: db.execute(f"PRAGMA table_info({t})").fetchall() for t in tables},
                "revision": db.execute("SELECT version_num FROM alembic_version").fetchall()}
    finally:
        db.close()


def test_the_gradebook_is_the_one_nbgrader_creates(tmp_path):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}"):     # runs `alembic heads` in a subprocess
        pass
    gradebook.create(tmp_path / "ours.db")
    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}") as gb:    # nbgrader opens it as one of its own
        gb.add_student("s1")
    theirs, ours = _schema(tmp_path / "nbgrader.db"), _schema(tmp_path / "ours.db")
    assert ours["revision"] == theirs["revision"] == [(gradebook.schema_head(),)]
    assert ours["columns"] == theirs["columns"]


def test_the_schema_head_is_read_from_the_migration_chain(tmp_path, monkeypatch):
    import nbgrader

    versions = tmp_path / "nbgrader" / "alembic" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "nbgrader" / "__init__.py").write_text("")
    (versions / "a.py").write_text("revision = 'aaa'\ndown_revision = None\n")
    (versions / "b.py").write_text('revision = "bbb"\ndown_revision = "aaa"\n')
    monkeypatch.setattr(nbgrader, "__file__", str(tmp_path / "nbgrader" / "__init__.py"))
    assert gradebook.schema_head() == "bbb"
    (versions / "c.py").write_text("revision = 'ccc'\ndown_revision = 'aaa'\n")     # a branch: two heads
    with pytest.raises(RuntimeError, match="2 heads \\(bbb, ccc\\)"):
        gradebook.schema_head()
