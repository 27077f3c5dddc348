"""Grading workers that live for the whole run, each held to one task's wall-clock and memory limits.

A worker (``python -m autograder.grading.worker --serve``) imports nbgrader, nbconvert and the judge
once, then takes one task at a time over a pipe. It is started ahead of need (when the run starts,
and again as soon as one is lost), so no task waits for Python's imports. A task that exceeds its
limits kills the worker's whole tree (worker, sandbox, kernel); a fresh worker takes the next task.
After every task, whatever the task's kernel left running is killed.
"""
from __future__ import annotations

import json
import os
import select
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
    """SIGKILL the process, its process group and every descendant (kernels start their own session)."""
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    try:
        os.killpg(pid, signal.SIGKILL)       # the worker leads its own process group
    except ProcessLookupError:
        pass
    for kid in kids:
        try:
            kid.kill()
        except psutil.NoSuchProcess:
            pass


def kill_children(pid: int, keep: set[int] = frozenset()) -> None:
    """SIGKILL every descendant of ``pid`` (not ``pid`` itself) but the trees of ``keep`` (the next
    task's kernel, started ahead): no kernel outlives its task."""
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    spared = set()
    for kid in kids:
        if kid.pid in keep:
            try:
                spared |= {kid.pid} | {p.pid for p in kid.children(recursive=True)}
            except psutil.NoSuchProcess:
                pass
    kids = [kid for kid in kids if kid.pid not in spared]
    for kid in kids:
        try:
            kid.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(kids, timeout=5)


class Worker:
    """One long-lived grading worker for one slot (see the module docstring)."""

    def __init__(self, cmd: list[str], *, env: dict[str, str], log: Path, max_tasks: int = 200,
                 poll_s: float = 0.1) -> None:
        self.cmd, self.env, self.log = cmd, env, Path(log)
        self.max_tasks, self.poll_s = max_tasks, poll_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.tasks = 0
        self.started = 0        # processes started over the run (a measure of lost workers)

    def start(self) -> None:
        """Start the process now if there is none (its imports then overlap with other work)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=out, start_new_session=True)
        self.tasks, self.started = 0, self.started + 1

    def stop(self) -> int | None:
        """Kill the worker's tree; its exit code (negative: the signal that ended it)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        kill_tree(proc.pid)
        return proc.wait()

    def run(self, task_json: Path, *, log: Path, wall_s: float, memory_mb: float,
            next_task: tuple[Path, Path] | None = None) -> Outcome:
        """Run one task; kill the worker when it exceeds ``wall_s`` seconds or ``memory_mb`` RSS.
        ``next_task`` (its task file and log): the task this worker gets next, whose kernel the
        worker starts as soon as this task's notebook has run."""
        self.start()
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        start = time.monotonic()
        status, reason, peak = "ok", "", 0
        request: dict = {"task": str(task_json), "log": str(log)}
        if next_task is not None:
            request["next"] = {"task": str(next_task[0]), "log": str(next_task[1])}
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass                                  # it died before the task: reported below
        watched = psutil.Process(self.proc.pid)
        reply: dict | None = None
        fd, pending = self.proc.stdout.fileno(), b""
        while True:
            if b"\n" in pending:                      # a whole line: this task's reply, or chatter
                line, pending = pending.split(b"\n", 1)
                reply = _reply(line, task_json)
                if reply is not None:
                    break
                continue
            ready, _, _ = select.select([fd], [], [], self.poll_s)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break                             # end of file: the worker is gone
                pending += chunk
                continue
            try:
                peak = max(peak, tree_rss(watched))
            except psutil.NoSuchProcess:
                pass
            elapsed = time.monotonic() - start
            if elapsed > wall_s:
                status, reason = "timeout", f"stopped after {wall_s:.0f} s (time limit of one notebook)"
            elif peak > memory_mb * 2**20:
                status, reason = "memory", (f"stopped at {peak / 2**20:.0f} MB of memory "
                                            f"(limit {memory_mb:.0f} MB for one notebook)")
            if status != "ok":
                break
        rc = None
        if status != "ok" or reply is None:
            rc = self.stop()
            if status == "ok":
                status, reason = "failed", f"the grading process exited with code {rc}"
        else:
            kill_children(self.proc.pid, set(reply.get("keep", [])))   # no kernel outlives its task
            self.tasks += 1
            if not reply.get("ok"):
                status, reason = "failed", f"the grading process failed: {reply.get('error', 'no reason given')}"
            if self.tasks >= self.max_tasks:      # bounded: whatever a long run accumulates is let go
                self.stop()
        self.start()                              # the next task's worker, ready ahead of need
        return Outcome(rc, status, reason, time.monotonic() - start, peak / 2**20)


def _reply(line: bytes, task_json: Path) -> dict | None:
    """The worker's reply to this task, or None for any other line on its channel."""
    try:
        reply = json.loads(line)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) and reply.get("task") == str(task_json) else None


class Pool:
    """A worker per slot, all started at once (before the run's set-up, which their imports overlap)."""

    def __init__(self, slots: int, cmd: list[str], *, env: dict[str, str], logs: Path) -> None:
        self.workers = [Worker(cmd, env=env, log=Path(logs) / f"worker-{n}.log") for n in range(slots)]
        for worker in self.workers:
            worker.start()

    def __getitem__(self, slot: int) -> Worker:
        return self.workers[slot]

    def close(self) -> None:
        """Stop every worker (between tasks there is nothing to lose)."""
        for worker in self.workers:
            worker.stop()
