"""Safe file-system names, natural sort keys and Markdown-safe text for students, notebooks and questions."""

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


def md_cell(text: object) -> str:
    """``text`` safe inside a Markdown table cell (no column break, line break or HTML tag)."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
