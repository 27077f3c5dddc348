"""The environment a grading run gives the kernel (all optional: a student's own Jupyter has none)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PROFILE = "AUTOGRADER_PROFILE"        # smoke | full
SEED = "AUTOGRADER_SEED"
DATA = "AUTOGRADER_DATA"              # the student-visible data of the profile (read-only)
EVIDENCE = "AUTOGRADER_EVIDENCE"      # where grade cells write evidence (set only when grading)
REQUESTS = "AUTOGRADER_REQUESTS"      # JSON: what each check must measure (inputs, never answers)
BUDGETS = "AUTOGRADER_BUDGETS"        # JSON: the profile's budgets of this assignment (no thresholds)
SERVED_LOG = "AUTOGRADER_SERVED_LOG"  # JSON lines: which data the loaders served


def grading() -> bool:
    """True inside a grading kernel (the runner sets the evidence directory)."""
    return bool(os.environ.get(EVIDENCE))


def profile() -> str:
    return os.environ.get(PROFILE, "full").strip() or "full"


def seed() -> int:
    return int(os.environ.get(SEED, "0"))


def read_json(var: str) -> Any:
    path = os.environ.get(var)
    if not path or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text())


def log_served(dataset: str, description: str) -> None:
    path = os.environ.get(SERVED_LOG)
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"dataset": dataset, "description": description, "profile": profile()}) + "\n")
