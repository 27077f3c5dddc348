"""Grading processes that live for the whole run, each held to one task's wall-clock and memory limits.

A grading process (``python -m autograder.grading.worker --serve``, a :class:`Worker` here) imports
nbgrader, nbconvert and the judge once, then takes one task at a time over a pipe; it says when a
task's notebook has run (a ``"stage": "executed"`` line), then replies once the task is done. A
:class:`Pool` gives each of the run's workers two such processes that take turns at running a
notebook, so that what the grader does after a notebook overlaps the worker's next one.

A process is started ahead of need (when the run starts, and again as soon as one is lost), so no
task waits for Python's imports. A task that exceeds its limits kills the process's whole tree
(process, sandbox, kernel); a fresh process takes the next task. A task's memory is its kernel's
tree, its probes and what the process grows by while it runs (not what it held before, which
earlier tasks' imports have set). After every task, whatever the task's kernel left running is
killed, but the process's next kernel, started ahead (which is not counted against this task's
memory either); a process that has grown past ``idle_mb`` or served ``max_tasks`` is replaced.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psutil


SOCKETS_ENV = "AUTOGRADER_WORKER_SOCKETS"   # where a worker puts its kernels' socket folders
AHEAD_PID = "kernel_ahead.pid"              # in a task's folder: the pid of its kernel started ahead


@dataclass
class Outcome:
    returncode: int | None
    status: str            # ok | timeout | memory | failed
    reason: str
    elapsed_s: float
    peak_rss_mb: float


def _trees(kids: list[psutil.Process], roots: set[int]) -> set[int]:
    """The pids among ``kids`` that are one of ``roots`` or descend from one (from one listing)."""
    inside = set()
    for kid in kids:
        try:
            if kid.pid in roots or any(p.pid in roots for p in kid.parents()):
                inside.add(kid.pid)
        except psutil.NoSuchProcess:
            pass
    return inside


def tree_rss(proc: psutil.Process, exclude: set[int] = frozenset(), own_baseline: int = 0) -> int:
    """Resident memory of ``proc`` and its descendants, but the trees rooted at ``exclude``;
    ``proc`` itself counts only by what it has grown past ``own_baseline`` bytes."""
    kids = proc.children(recursive=True)
    skipped = _trees(kids, set(exclude)) if exclude else set()
    total = 0
    for p in [proc, *kids]:
        if p.pid in skipped:
            continue
        try:
            rss = p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += max(0, rss - own_baseline) if p.pid == proc.pid else rss
    return total


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _kill(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def kill_tree(pid: int) -> None:
    """SIGKILL the process, its process group and every descendant (kernels start their own session)."""
    kids = _descendants(pid)                 # listed first: once the worker dies they are reparented
    try:
        os.killpg(pid, signal.SIGKILL)       # the worker leads its own process group
    except ProcessLookupError:
        pass
    _kill(kids)


def kill_children(pid: int, keep: set[int] = frozenset()) -> None:
    """SIGKILL every descendant of ``pid`` (not ``pid`` itself) but the trees of ``keep`` (the next
    task's kernel, started ahead): no kernel outlives its task."""
    kids = _descendants(pid)
    spared = _trees(kids, set(keep))
    _kill([kid for kid in kids if kid.pid not in spared])


def _read_pid(path: Path | None) -> set[int]:
    try:
        return {int(path.read_text().strip())} if path is not None else set()
    except (OSError, ValueError):
        return set()


class Worker:
    """One long-lived grading process (see the module docstring)."""

    def __init__(self, cmd: list[str], *, env: dict[str, str], log: Path, max_tasks: int = 200,
                 idle_mb: float = 1536, poll_s: float = 0.25) -> None:
        self.cmd, self.env, self.log = cmd, env, Path(log)
        self.max_tasks, self.idle_mb, self.poll_s = max_tasks, idle_mb, poll_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.sockets: str | None = None
        self.tasks = 0
        self.started = 0        # processes started over the run (a measure of lost workers)

    def start(self) -> None:
        """Start the process now if there is none (its imports then overlap with other work)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.stop()                               # a worker found dead while idle: its leftovers go
        self.log.parent.mkdir(parents=True, exist_ok=True)
        # the kernels' socket folders (a Unix socket's path is short: under /tmp), removed with the worker
        self.sockets = tempfile.mkdtemp(prefix="ag-", dir="/tmp" if os.path.isdir("/tmp") else None)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, env={**self.env, SOCKETS_ENV: self.sockets},
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out,
                                         start_new_session=True)
        self.tasks, self.started = 0, self.started + 1

    def stop(self) -> int | None:
        """Kill the worker's tree; its exit code (negative: the signal that ended it)."""
        proc, self.proc = self.proc, None
        code = None
        if proc is not None:
            kill_tree(proc.pid)
            code = proc.wait()
        if self.sockets:
            shutil.rmtree(self.sockets, ignore_errors=True)
            self.sockets = None
        return code

    def run(self, task_json: Path, *, log: Path, wall_s: float, memory_mb: float,
            next_task: tuple[Path, Path] | None = None,
            on_executed: Callable[[], None] | None = None) -> Outcome:
        """Run one task; kill the worker when it exceeds ``wall_s`` seconds or ``memory_mb`` RSS.
        ``next_task`` (its task file and log): the task this worker gets next, whose kernel the
        worker starts as soon as this task's notebook has run. ``on_executed``: called once the
        worker says the notebook has run (the rest of the task is the grader's own work)."""
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
        try:    # a task is charged for what the worker grows by while it runs, not for what it had
            baseline = watched.memory_info().rss
        except psutil.NoSuchProcess:
            baseline = 0
        # the next task's kernel, once started ahead, is that task's: not counted against this one
        ahead_pid = next_task[0].parent / AHEAD_PID if next_task is not None else None
        reply: dict | None = None
        fd, pending = self.proc.stdout.fileno(), b""
        while True:
            if b"\n" in pending:                      # a whole line: this task's reply, or chatter
                line, pending = pending.split(b"\n", 1)
                reply = _reply(line, task_json)
                if reply is not None and reply.get("stage") == "executed":
                    reply = None
                    if on_executed is not None:
                        on_executed()
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
                peak = max(peak, tree_rss(watched, _read_pid(ahead_pid), baseline))
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
            try:
                idle = watched.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                idle = 0.0
            if self.tasks >= self.max_tasks or idle > self.idle_mb:   # whatever a long run accumulates is let go
                self.stop()
        self.start()                              # the next task's worker, ready ahead of need
        return Outcome(rc, status, reason, time.monotonic() - start, peak / 2**20)


def _reply(line: bytes, task_json: Path) -> dict | None:
    """The worker's reply to this task (or its word that the notebook has run: ``"stage":
    "executed"``), or None for any other line on its channel."""
    try:
        reply = json.loads(line)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) and reply.get("task") == str(task_json) else None


class Pool:
    """Grading processes for the run, all started at once (before the run's set-up, which their
    imports overlap). With ``workers`` (fewer than the processes), process ``p`` serves worker
    ``p % workers``, and each worker runs one notebook at a time: a process takes its worker's gate
    before its task (:meth:`run`) and gives it back as soon as the task's notebook has run, so that
    the rest of its task (the grader's own work) overlaps the next notebook of the same worker,
    on the same devices, run by the worker's other process."""

    def __init__(self, processes: int, cmd: list[str], *, env: dict[str, str], logs: Path,
                 workers: int | None = None) -> None:
        self.workers = [Worker(cmd, env=env, log=Path(logs) / f"worker-{n}.log") for n in range(processes)]
        self.gates = [threading.BoundedSemaphore(1) for _ in range(min(processes, workers or processes))]
        for worker in self.workers:
            worker.start()

    def __getitem__(self, proc: int) -> Worker:
        return self.workers[proc]

    def __len__(self) -> int:
        return len(self.workers)

    def worker_of(self, proc: int) -> int:
        """The worker (its gate, its devices) that process ``proc`` serves."""
        return proc % len(self.gates)

    def run(self, proc: int, task_json: Path, *, on_started: Callable[[], None] | None = None, **kw) -> Outcome:
        """:meth:`Worker.run` on process ``proc``, inside its worker's gate: held from the task's
        start (then ``on_started`` is called) until its notebook has run (or the task ended
        without saying so)."""
        gate = self.gates[self.worker_of(proc)]
        gate.acquire()
        held = [True]

        def release() -> None:
            if held[0]:
                held[0] = False
                gate.release()
        try:
            if on_started is not None:
                on_started()
            return self.workers[proc].run(task_json, on_executed=release, **kw)
        finally:
            release()

    def close(self) -> None:
        """Stop every process (between tasks there is nothing to lose)."""
        for worker in self.workers:
            worker.stop()
