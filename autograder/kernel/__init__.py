"""Everything that runs inside a student's kernel, and nothing else.

This folder imports nothing else of the package: in a grading sandbox it is the only part of the
kit the kernel can see. It holds the start-up hook (seed, loader routing to the profile's data,
training bookkeeping), the notebooks' scaffolding (:func:`start`) and the evidence a grade cell
exports (:func:`check`). Verdicts are computed outside, by :mod:`autograder.judge`.
"""
from __future__ import annotations

from .budget import data_dir, start
from .evidence import check

STARTUP = "import autograder.kernel.hook as _autograder_hook; _autograder_hook.install(); del _autograder_hook\n"

__all__ = ["start", "check", "data_dir", "STARTUP"]

