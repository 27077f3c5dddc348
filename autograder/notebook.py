"""What a notebook's scaffolding cell needs: the active profile's budget for a question.

Students see one line at the top of a notebook::

    from autograder.notebook import start
    EPOCHS, BATCH_SIZE = start("cnn_foundations.q6", "epochs", "batch_size")
"""
from __future__ import annotations

from typing import Any

from . import profiles


def start(question: str, *keys: str) -> Any:
    """Print the profile in force and return the requested budget values (one or a tuple)."""
    row = profiles.settings(question)
    profile = profiles.active()
    print(f"[{question}] profile '{profile}': {profiles.description(profile)}")
    values = tuple(row[k] for k in keys)
    return values[0] if len(values) == 1 else values
