"""A kernel started ahead of need, in its sandbox, while the grader is busy with the previous notebook.

    python -m autograder.kernel.ahead

imports what every kernel start imports (IPython, ipykernel, NumPy, the start-up hook's modules),
then waits for one JSON line on stdin: the kernel's command line after the interpreter
(``["-m", "ipykernel_launcher", "-f", CONNECTION_FILE, ...]``). From there the kernel starts exactly
as a freshly launched one would, start-up hook included; only Python's imports were paid earlier.
"""
from __future__ import annotations

import json
import runpy
import sys


def main() -> int:
    import IPython  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import numpy  # noqa: F401

    from . import hook  # noqa: F401
    line = sys.stdin.readline()
    if not line:
        return 0                          # never needed: the grader moved on
    argv = json.loads(line)
    if not (isinstance(argv, list) and len(argv) >= 2 and argv[0] == "-m"):
        print(f"kernel start: unexpected command line {argv!r}", file=sys.stderr)
        return 2
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
