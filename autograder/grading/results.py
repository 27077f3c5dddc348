"""The result store: one record per (student, notebook) under ``<out>/results``.

The runner is its only writer (a worker hands its record back through its private task folder,
and no sandbox is given the output folder), so what resume trusts and what the reports read is
written by trusted code only. Records are written atomically: complete or absent.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


# reasons that say the grading machinery failed (a lost worker), not the student's notebook
GRADER_FAILURES = ("the grading process", "the grader failed")


def record(student: str, assignment: str, notebook: str, profile: str, *, status: str = "graded",
           reason: str = "", cells: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A result record with every field the reports read (one shape, whoever builds it)."""
    return {"student": student, "assignment": assignment, "notebook": notebook, "status": status,
            "reason": reason, "profile": profile, "cells": cells or [], "feedback_html": None,
            "elapsed_s": 0.0, "data_served": [], "flags": [], "metrics": [], **extra}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic: a file is complete or absent, even when the process is killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


class ResultStore:
    """``<out>/results/<student>/<notebook>.json``."""

    def __init__(self, out: Path) -> None:
        self.root = Path(out) / "results"

    def path(self, student: str, notebook: str) -> Path:
        return self.root / student / f"{notebook}.json"

    def save(self, result: dict[str, Any]) -> Path:
        path = self.path(result["student"], result["notebook"])
        write_json(path, result)
        return path

    def resumable(self, student: str, notebook: str, digest: str) -> dict[str, Any] | None:
        """The stored record if it graded exactly this input (same notebook bytes, grader, source,
        profile and seed), else None."""
        path = self.path(student, notebook)
        if not digest or not path.is_file():
            return None
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(old, dict) or old.get("input_digest") != digest:
            return None
        if old.get("status") == "error" and str(old.get("reason", "")).startswith(GRADER_FAILURES):
            return None          # the grader failed, not the notebook: graded again
        return old
