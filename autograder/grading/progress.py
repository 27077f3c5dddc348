"""What a person watching a class-sized run sees: one progress bar on a terminal, a summary at the end.

The bar (tqdm, on stderr) shows notebooks done, running and failed, the mean time per notebook and
the ETA; off a terminal (CI, logs) there is no bar, only the one line per notebook the runner logs.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, Callable, Iterable


def summary(results: Iterable[dict[str, Any]], elapsed_s: float, slowest: int = 3) -> str:
    """One line: notebooks graded, failures by reason, and the slowest notebooks."""
    results = list(results)
    statuses = Counter(r.get("status", "graded") for r in results)
    graded = statuses.pop("graded", 0)
    students = len({r.get("student") for r in results})
    failed = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "none"
    timed = sorted((r for r in results if r.get("elapsed_s")), key=lambda r: -r["elapsed_s"])[:slowest]
    slow = ", ".join(f"{r['student']}/{r['notebook']} {r['elapsed_s']:.0f} s" for r in timed) or "-"
    return (f"{len(results)} notebook(s) of {students} student(s) in {elapsed_s:.0f} s: {graded} graded; "
            f"not graded or stopped: {failed}; slowest: {slow}")


class Progress:
    """A class-wide bar (done, running, failed, s/notebook, ETA) when ``enabled``; log lines pass through."""

    def __init__(self, total: int, log: Callable[[str], None], *, enabled: bool | None = None) -> None:
        self.total, self._log, self.started = total, log, time.perf_counter()
        self.done = self.failed = self.running = 0
        self.seconds = 0.0
        enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if enabled and total:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="notebook", file=sys.stderr, dynamic_ncols=True, leave=False)

    def log(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            self._log(line)

    def started_one(self) -> None:
        self.running += 1
        self._show()

    def finished(self, result: dict[str, Any], *, ran: bool) -> None:
        self.done += 1
        self.running -= ran
        self.failed += result.get("status", "graded") not in ("graded", "missing")
        if ran:
            self.seconds += float(result.get("elapsed_s") or 0.0)
        if self.bar is not None:
            self.bar.update(1)
        self._show()

    def _show(self) -> None:
        if self.bar is None:
            return
        ran = max(self.done, 1)
        self.bar.set_postfix_str(f"running {self.running}, failed {self.failed}, {self.seconds / ran:.0f} s/notebook")

    def close(self, results: Iterable[dict[str, Any]]) -> str:
        if self.bar is not None:
            self.bar.close()
        line = summary(results, time.perf_counter() - self.started)
        self._log(line)
        return line
