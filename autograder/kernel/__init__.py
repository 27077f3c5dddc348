"""Start-up hook of grading kernels: seeds, no network, quiet logs, profile data routing.

The runner writes an IPython start-up file (see :func:`startup_dir`) that calls
:func:`autograder.kernel.hook.install`; everything is configured through the environment.
"""
from __future__ import annotations

from pathlib import Path

STARTUP = "import autograder.kernel.hook as _autograder_hook; _autograder_hook.install(); del _autograder_hook\n"


def startup_dir(ipython_dir: Path) -> Path:
    """Create an IPython directory whose default profile runs the hook at kernel start."""
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-autograder.py").write_text(STARTUP)
    return Path(ipython_dir)
