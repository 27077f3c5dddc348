"""Run a worker process tree under a wall-clock budget and a memory cap."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Outcome:
    returncode: int | None
    status: str            # ok | timeout | memory | failed
    reason: str
    elapsed_s: float
    peak_rss_mb: float


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def kill_tree(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)       # the worker leads its own process group
    except ProcessLookupError:
        pass


def run_limited(cmd: list[str], *, env: dict[str, str], log: Path, wall_s: float, memory_mb: float,
                poll_s: float = 0.5) -> Outcome:
    """Run ``cmd``; kill its whole tree when it exceeds ``wall_s`` seconds or ``memory_mb`` RSS."""
    start = time.monotonic()
    peak = 0
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        watched = psutil.Process(proc.pid)
        status, reason = "ok", ""
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            try:
                peak = max(peak, tree_rss(watched))
            except psutil.NoSuchProcess:
                pass
            if elapsed > wall_s:
                status, reason = "timeout", f"stopped after {wall_s:.0f} s (time limit of one notebook)"
            elif peak > memory_mb * 2**20:
                status, reason = "memory", (f"stopped at {peak / 2**20:.0f} MB of memory "
                                            f"(limit {memory_mb:.0f} MB for one notebook)")
            if status != "ok":
                kill_tree(proc.pid)
                proc.wait()
                break
            time.sleep(poll_s)
        kill_tree(proc.pid)                  # no orphaned kernels survive a finished worker
    rc = proc.returncode
    if status == "ok" and rc != 0:
        status, reason = "failed", f"the grading process exited with code {rc}"
    return Outcome(rc, status, reason, time.monotonic() - start, peak / 2**20)
