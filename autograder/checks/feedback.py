"""Failure type and formatting helpers for messages a student can act on.

Messages say what was expected and what the answer produced; they never include a test's
source. When the expected value is private (hidden tests), callers pass ``reveal=False`` and
the message names the requirement without its value.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

__all__ = ["CheckFailed", "fail", "fmt_shape", "fmt_number", "fmt_value", "fmt_seq"]


class CheckFailed(AssertionError):
    """A check did not pass; ``str(err)`` is the feedback shown to the student."""

    def __init__(self, message: str, *, question: str | None = None) -> None:
        self.question = question
        self.feedback = message
        super().__init__(f"[{question}] {message}" if question else message)


def fail(message: str, *, question: str | None = None) -> None:
    """Raise :class:`CheckFailed` with ``message``."""
    raise CheckFailed(message, question=question)


def fmt_shape(shape: Any) -> str:
    """Format a shape like Keras does: ``(None, 10)``; a 1-tuple keeps its comma."""
    if shape is None:
        return "None"
    try:
        dims = tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        return repr(shape)
    return repr(dims)


def fmt_number(x: Any, digits: int = 3) -> str:
    """Format ints with thousands separators and floats with ``digits`` decimals."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return repr(x)
    if math.isnan(f) or math.isinf(f):
        return str(f)
    return f"{f:.{digits}f}"


def fmt_value(x: Any, limit: int = 120) -> str:
    """``repr`` of a value, shortened to ``limit`` characters."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fmt_seq(items: Iterable[Any]) -> str:
    """Format a sequence of kinds as ``conv -> pool_max -> dense``."""
    items = list(items)
    return " -> ".join(map(str, items)) if items else "(empty)"
