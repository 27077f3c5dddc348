"""Grading profiles (``smoke``, ``full``) and the one table of budgets and thresholds.

The table is ``profiles.toml`` next to this module; an instructor edits it, nothing else.
The active profile comes from ``AUTOGRADER_PROFILE`` (default ``full``, what a student gets).
"""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

ENV = "AUTOGRADER_PROFILE"
DEFAULT = "full"
TABLE = Path(__file__).with_name("profiles.toml")


class ProfileError(KeyError):
    """An unknown profile or question; the message says which and what exists."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


@lru_cache(maxsize=None)
def _table(path: str = str(TABLE)) -> Mapping[str, Any]:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def names() -> list[str]:
    """Profiles defined in the table."""
    return sorted(_table())


def active() -> str:
    """The profile selected through the environment."""
    name = os.environ.get(ENV, DEFAULT).strip() or DEFAULT
    if name not in _table():
        raise ProfileError(f"{ENV}={name!r} is not a profile; choose one of {names()} ({TABLE.name})")
    return name


def description(profile: str | None = None) -> str:
    return _table()[profile or active()].get("description", "")


def settings(question: str, profile: str | None = None) -> Mapping[str, Any]:
    """Budget and thresholds of ``question`` ("assignment.qN") in ``profile``."""
    profile = profile or active()
    node: Any = _table().get(profile)
    if node is None:
        raise ProfileError(f"unknown profile {profile!r}; choose one of {names()}")
    for part in question.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ProfileError(f"{TABLE.name} has no row [{profile}.{question}]")
        node = node[part]
    return MappingProxyType(dict(node))


class Budget:
    """Attribute access to one row: ``budget('cnn_foundations.q6').epochs``."""

    def __init__(self, question: str, profile: str | None = None) -> None:
        self.question = question
        self.profile = profile or active()
        self._row = settings(question, self.profile)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._row[key]
        except KeyError:
            raise AttributeError(f"[{self.profile}.{self.question}] has no setting {key!r}") from None

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._row.items())
        return f"Budget({self.question!r}, profile={self.profile!r}: {items})"


def budget(question: str, profile: str | None = None) -> Budget:
    return Budget(question, profile)
