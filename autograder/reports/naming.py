"""Safe file-system names and natural sort keys for students, notebooks and questions."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def safe_component(name: str) -> str:
    """Return *name* usable as one path component: no separators, no ``..``, never empty."""
    cleaned = _UNSAFE.sub("_", str(name)).strip("._") or "_"
    return cleaned


def natural_key(text: str) -> tuple:
    """Sort key that orders ``q2`` before ``q10``."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", str(text)))
