"""Autograded assignment kit for a deep-learning course on CNN architectures.

Data flows one way: submission -> execution -> checks -> scores -> reports.

- :mod:`autograder.data`     hash-pinned datasets and weights, offline cache, served data per profile
- :mod:`autograder.checks`   checks used by the notebooks' visible and hidden tests (Keras and PyTorch)
- :mod:`autograder.kernel`   start-up hook installed into every grading kernel
- :mod:`autograder.grading`  the runner: collect, isolate, execute with nbgrader, score
- :mod:`autograder.reports`  CSV, feedback, Gradescope-style JSON, plots
"""

import sys as _sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat) compiles some forty grammars at import when the optional
# rfc3987_syntax is installed, only to check "iri" strings, which no notebook schema uses: 1.2 s in
# every process that reads a notebook. Without it, jsonschema skips that one format check.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
