"""Grade a folder of submissions: parallel, resumable, one isolated process per notebook."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import judge, profiles
from . import collect, course, devices, limits, progress, sandbox
from .results import ResultStore, record
from .gradebook import unscored
from .worker import checks_in, trusted_sources

REPO = Path(__file__).resolve().parents[2]
GRADER = ""


@dataclass
class Options:
    submissions: Path
    assignment: str
    out: Path
    profile: str = "smoke"
    workers: int | None = None
    source_root: Path = REPO / "source"
    release_root: Path = REPO / "release"
    resume: bool = True
    seed: int = 0
    cell_timeout: int | None = None
    notebook_timeout: int | None = None
    memory_mb: int | None = None
    file_mb: int | None = None
    output_kb: int | None = None
    mixed_precision: bool = False
    reuse_identical: bool = True
    shard: tuple[int, int] = (0, 1)        # (index, count): this machine grades students of its shard
    unconfined: bool = False               # run student code without the sandbox (explicit, reported)
    held_out: bool = True                  # False: held-out checks are left to the grader (a self-check)
    progress: bool | None = None           # a class-wide progress bar (None: when stderr is a terminal)
    pipeline: bool = True                  # a second grading process per worker: a notebook's probes, judge,
                                           # scores and feedback overlap the worker's next notebook (each
                                           # worker still runs one notebook at a time)
    log: Callable[[str], None] = field(default=lambda s: print(s, flush=True))
    timings: dict[str, float] = field(default_factory=dict)   # the run fills it in: setup_s

    def limit(self, key: str) -> int:
        value = getattr(self, key)
        return int(value if value is not None else profiles.settings("grading", self.profile)[key])


@dataclass
class Task:
    student: str
    notebook: str
    path: Path | None
    problem: str = ""
    digest: str = ""


def grader_digest() -> str:
    """Changes when the kit's code or tables change, so a resumed run re-grades with the new grader."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if path.suffix in {".py", ".toml"} and "__pycache__" not in path.parts:
            h.update(path.read_bytes())
    return h.hexdigest()


def _digest(path: Path, source_digest: str, opts: Options) -> str:
    h = hashlib.sha256(path.read_bytes())
    h.update(GRADER.encode())
    h.update(f"{source_digest}|{opts.profile}|{opts.seed}|{opts.limit('cell_timeout')}".encode())
    return h.hexdigest()


def in_shard(student: str, index: int, count: int) -> bool:
    """Stable assignment of students to ``count`` machines (e.g. a Slurm job array)."""
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % count == index


def _unavailable(template: Path, opts: Options, task: Task, status: str, reason: str) -> dict[str, Any]:
    cells = unscored(template / "gradebook.db", opts.assignment, task.notebook, reason)
    return record(task.student, opts.assignment, task.notebook, opts.profile, status=status, reason=reason,
                  cells=cells)


def _worker_env(opts: Options) -> dict[str, str]:
    """The grading worker's environment (trusted: it runs nbgrader and the judge, never student code)."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env.update({"PATH": bindir + os.pathsep + env.get("PATH", ""),   # nbgrader runs `alembic`
                "PYTHONPATH": str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
                "AUTOGRADER_PROFILE": opts.profile, "AUTOGRADER_OFFLINE": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"})
    return env


def kernel_env(opts: Options, slot: int, gpus: list[str], *, data: Path, evidence: Path, kernel_in: Path,
               ipython_dir: Path, kernel_pkg: Path) -> dict[str, str]:
    """The whole environment of a student's kernel: an allow-list, nothing inherited (no secrets)."""
    threads = str(max(1, (os.cpu_count() or 2) // max(1, opts.workers or 1)))
    env = {
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
        "PYTHONPATH": str(kernel_pkg), "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": str(opts.seed),
        "PYTHONWARNINGS": "ignore", "IPYTHONDIR": str(ipython_dir), "MPLCONFIGDIR": "/tmp/matplotlib",
        "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", threads),
        # TensorFlow sizes its thread pools by the machine, not OMP_NUM_THREADS: its share of the cores
        "TF_NUM_INTRAOP_THREADS": os.environ.get("OMP_NUM_THREADS", threads),
        "TF_NUM_INTEROP_THREADS": os.environ.get("OMP_NUM_THREADS", threads),
        "AUTOGRADER_PROFILE": opts.profile, "AUTOGRADER_SEED": str(opts.seed), "AUTOGRADER_NO_NETWORK": "1",
        "AUTOGRADER_DATA": str(data), "AUTOGRADER_EVIDENCE": str(evidence),
        "AUTOGRADER_REQUESTS": str(kernel_in / "requests.json"), "AUTOGRADER_BUDGETS": str(kernel_in / "budgets.json"),
        "AUTOGRADER_SERVED_LOG": str(evidence / "served.jsonl"),
    }
    env.update(devices.worker_env(slot, gpus, mixed_precision=opts.mixed_precision, workers=opts.workers,
                                  memory_mb=devices.gpu_memory_mb() if gpus else None))
    return env


def write_kernel_inputs(kernel_in: Path, keys: list[str], profile: str, *, probed: bool = True) -> None:
    """What the kernel reads (mounted read-only): the measurements its checks request and the
    training budgets; ``probed``: checks the grader's own probe runs are left to it."""
    (kernel_in / "requests.json").write_text(json.dumps(judge.requests(keys, profile, probed=probed)))
    (kernel_in / "budgets.json").write_text(json.dumps(judge.budgets(keys, profile)))


def expected_cost(keys: list[str], profile: str) -> float:
    """A notebook's rough cost, to order the queue: its questions' training epochs, plus the grader's
    own run of an app, plus one for the kernel."""
    budgets = judge.budgets(keys, profile)["questions"].values()
    return 1 + sum(float(b.get("epochs", 0)) for b in budgets) + 5 * len(judge.probes(keys, profile))


def prune(root: Path) -> None:
    """After a task: drop what student code wrote (models, data, big files) and the evidence; keep
    the executed notebook, the feedback page, the gradebook and the logs for the record."""
    for path in [root / "evidence", root / "probe", root / "kernel_in", root / "submitted", *root.glob("probe_*")]:
        shutil.rmtree(path, ignore_errors=True)
    kept = [(folder, ".ipynb") for folder in (root / "autograded").glob("*/*")]
    kept += [(folder, ".html") for folder in (root / "feedback").glob("*/*")]   # nbgrader copies the files there too
    for folder, suffix in kept:
        for path in folder.iterdir():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix != suffix or path.is_symlink():
                path.unlink()


def grade(opts: Options) -> list[dict[str, Any]]:
    """Grade every submission; return the per-notebook results (also written under out/results)."""
    global GRADER
    GRADER = GRADER or grader_digest()
    opts.out = Path(opts.out).resolve()
    opts.timings.clear()
    started = time.perf_counter()
    index, count = opts.shard
    if not 0 <= index < count:
        raise ValueError(f"shard {index}/{count}: the index must be in 0..{count - 1}")
    work = opts.out / "work"
    reason = "" if opts.unconfined else sandbox.available()
    if reason:
        raise RuntimeError(f"cannot sandbox student code: {reason}. Install bubblewrap, or pass --unconfined "
                           "to grade without a sandbox (every report then says so)")
    gpus = devices.visible_gpus()
    n_workers = devices.worker_count(opts.workers, gpus)
    opts.workers = n_workers
    # the workers import nbgrader and the judge while the run sets itself up
    workers = limits.Pool(n_workers * (2 if opts.pipeline else 1),
                          [sys.executable, "-m", "autograder.grading.worker", "--serve"],
                          env=_worker_env(opts), logs=work / "workers", workers=n_workers)
    try:
        return _grade(opts, work, gpus, workers, started)
    finally:
        workers.close()


@contextmanager
def _offline() -> Iterator[None]:
    """Grading never downloads: data comes from the cache (set here, in the run's own thread)."""
    previous = os.environ.get("AUTOGRADER_OFFLINE")
    os.environ["AUTOGRADER_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("AUTOGRADER_OFFLINE")
        else:
            os.environ["AUTOGRADER_OFFLINE"] = previous


def _grade(opts: Options, work: Path, gpus: list[str], workers: limits.Pool,
           started: float) -> list[dict[str, Any]]:
    index, count = opts.shard
    n_workers = opts.workers or 1
    n_procs = len(workers)          # grading processes, each serving one worker (workers.worker_of)
    from ..data import staging
    with _offline(), ThreadPoolExecutor(max_workers=1) as side:
        # the data, staged once for the run (workers only read it): mostly file reads and writes, beside the template
        data = side.submit(staging.stage, opts.profile, work / "data" / opts.profile,
                           folders=judge.folders_of(opts.assignment))
        template = course.build_template(opts.source_root, opts.assignment, work)
        staged = data.result()
    source_digest = course.source_digest(Path(opts.source_root) / opts.assignment)
    subs = collect.collect(opts.submissions, opts.assignment, Path(opts.release_root) / opts.assignment, work)
    tasks: list[Task] = []
    subs = [sub for sub in subs if in_shard(sub.student, index, count)]
    for sub in subs:
        for note in sub.notes:
            opts.log(f"  note: {sub.student}: {note}")
        for name in sorted(set(sub.notebooks) | set(sub.problems)):
            path = sub.notebooks.get(name)
            task = Task(sub.student, name, path, sub.problems.get(name, ""))
            task.digest = _digest(path, source_digest, opts) if path else ""
            tasks.append(task)
    for name, text in staged.descriptions.items():
        opts.log(f"  data: {name}: {text}")
    kernel_pkg = sandbox.kernel_package(work / "kernel_pkg")
    check_keys = {name: checks_in(trusted_sources(template / "source" / opts.assignment / f"{name}.ipynb"))
                  for name in {t.notebook for t in tasks if t.path is not None}}
    opts.log(f"grading {len(subs)} submission(s) of {opts.assignment}: {len(tasks)} notebook(s), "
             f"profile '{opts.profile}', {n_workers} worker(s) on {'GPU ' + ','.join(gpus) if gpus else 'CPU'}, "
             + ("UNCONFINED: student code runs without a sandbox" if opts.unconfined else "sandbox: bubblewrap"))

    results: dict[tuple[str, str], dict[str, Any]] = {}
    by_digest: dict[str, tuple[str, str]] = {}
    lock = threading.Lock()
    done = [0]

    store = ResultStore(opts.out)
    bar = progress.Progress(len(tasks), opts.log, enabled=opts.progress)

    def finish(task: Task, result: dict[str, Any], how: str, *, ran: bool = False) -> None:
        result["input_digest"] = task.digest
        store.save(result)
        with lock:
            results[(task.student, task.notebook)] = result
            done[0] += 1
            auto = [c for c in result["cells"] if c["kind"] == "auto"]
            score = sum(c["score"] or 0 for c in auto)
            top = sum(c["max_score"] for c in auto)
            status = "" if result["status"] == "graded" else f"  [{result['status']}: {result['reason']}]"
            if result.get("flags"):
                status += f"  [flagged for review: {'; '.join(result['flags'])}]"
            bar.finished(result, ran=ran)
            bar.log(f"[{done[0]:>3}/{len(tasks)}] {task.student:<20} {task.notebook:<22} "
                    f"{score:g}/{top:g}  {how}{status}")

    def settle(task: Task) -> bool:
        """Record a task that needs no execution (not submitted, or graded before); False otherwise."""
        if task.path is None:
            finish(task, _unavailable(template, opts, task, "missing" if "not submitted" in task.problem else "error",
                                      task.problem), "not graded")
            return True
        old = store.resumable(task.student, task.notebook, task.digest) if opts.resume else None
        if old is not None:
            finish(task, old, "resumed")
            return True
        return False

    def prepare(task: Task, proc: int) -> Path:
        """The task's course directory, its kernel's inputs and its task file (before it runs, so
        that the worker can start its kernel ahead of need)."""
        slot = workers.worker_of(proc)           # the worker's devices (its processes take turns on them)
        root = work / "tasks" / task.student / task.notebook
        course.make_task_dir(template, root, opts.assignment, task.student, task.notebook, task.path)
        evidence, kernel_in = root / "evidence", root / "kernel_in"
        for folder in (evidence, kernel_in):
            folder.mkdir()
        keys = [k for k in check_keys.get(task.notebook, [])
                if opts.held_out or judge.SPECS[k].kind not in judge.HELDOUT]
        write_kernel_inputs(kernel_in, keys, opts.profile)
        ipython_dir = Path("/tmp/ipython") if not opts.unconfined else root / "ipython"
        env = kernel_env(opts, slot, gpus, data=staged.student, evidence=evidence, kernel_in=kernel_in,
                         ipython_dir=ipython_dir, kernel_pkg=kernel_pkg)
        box = {"enabled": not opts.unconfined, "ro": [str(staged.student), str(kernel_in), str(kernel_pkg)],
               "rw": [str(evidence)], "env": env, "devices": devices.device_nodes(slot, gpus),
               "fsize_mb": opts.limit("file_mb")}
        spec = {"course_dir": str(root), "assignment": opts.assignment, "student": task.student,
                "notebook": task.notebook, "profile": opts.profile, "served_log": str(evidence / "served.jsonl"),
                "evidence_dir": str(evidence), "private_dir": str(staged.private), "data_dir": str(staged.student),
                "sandbox": box, "skip_kinds": [] if opts.held_out else sorted(judge.HELDOUT),
                "cell_timeout": opts.limit("cell_timeout"), "output_kb": opts.limit("output_kb"),
                "result_path": str(root / "result.json")}
        (root / "task.json").write_text(json.dumps(spec))
        return root

    def execute(task: Task, root: Path, proc: int, ahead: Path | None) -> None:
        started = [False]

        def on_started() -> None:           # (once its worker's gate is taken)
            started[0] = True
            with lock:
                bar.started_one()
        ran = False
        try:
            nxt = (ahead / "task.json", ahead / "worker.log") if ahead is not None else None
            outcome = workers.run(proc, root / "task.json", log=root / "worker.log", next_task=nxt,
                                  wall_s=opts.limit("notebook_timeout"), memory_mb=opts.limit("memory_mb"),
                                  on_started=on_started)
            if outcome.status == "ok" and (root / "result.json").is_file():
                result = json.loads((root / "result.json").read_text())
            else:
                status = {"failed": "error"}.get(outcome.status, outcome.status)
                result = _unavailable(template, opts, task, status, outcome.reason or "no result was written")
            result["elapsed_s"] = round(outcome.elapsed_s, 2)
            result["peak_rss_mb"] = round(outcome.peak_rss_mb, 1)
            result["worker"], result["process"] = workers.worker_of(proc), proc
            feedback = root / "feedback" / task.student / opts.assignment / f"{task.notebook}.html"
            if result.get("feedback_html"):
                dest = opts.out / "feedback" / task.student / f"{task.notebook}.html"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(feedback, dest)
                result["feedback_html"] = str(dest.relative_to(opts.out))
            prune(root)
            ran = True
            finish(task, result, f"{outcome.elapsed_s:.1f} s, {outcome.peak_rss_mb:.0f} MB", ran=True)
        finally:
            if not ran and started[0]:
                with lock:
                    bar.running -= 1

    def process_loop(proc: int) -> None:
        """One grading process's share: take a task, and the one after it (whose kernel then starts
        ahead) while there is enough left for the other processes; a task the grader itself fails on
        is recorded as an error and the process goes on."""
        def take(spare: bool) -> tuple[Task, Path | None] | None:
            with lock:
                if not queue or (spare and len(queue) < n_procs):
                    return None
                task = queue.popleft()
            try:
                return task, prepare(task, proc)
            except Exception as exc:
                return task, failed(task, exc)

        def failed(task: Task, exc: Exception) -> None:
            finish(task, _unavailable(template, opts, task, "error",
                                      f"the grader failed on this notebook: {type(exc).__name__}: {exc}"),
                   "not graded")
            return None

        current = take(spare=False)
        while current is not None:
            following = take(spare=True)
            task, root = current
            if root is not None:
                try:
                    execute(task, root, proc, following[1] if following else None)
                except Exception as exc:
                    failed(task, exc)
            current = following or take(spare=False)

    # Identical notebooks (same bytes, source, profile and seed) are executed once.
    first: list[Task] = []
    copies: list[Task] = []
    for task in tasks:
        if opts.reuse_identical and task.digest and task.digest in by_digest:
            copies.append(task)
        else:
            if task.digest:
                by_digest[task.digest] = (task.student, task.notebook)
            first.append(task)
    # the longest notebooks first, so that no worker is left with a long one at the end while the
    # others idle (by the training the profile budgets for each and the grader's own app runs)
    cost = {name: expected_cost(keys, opts.profile) for name, keys in check_keys.items()}
    queue = deque(sorted((task for task in first if not settle(task)), key=lambda t: -cost.get(t.notebook, 0)))
    opts.timings["setup_s"] = round(time.perf_counter() - started, 3)    # until the first task is handed out
    with ThreadPoolExecutor(max_workers=n_procs) as pool:
        for future in as_completed([pool.submit(process_loop, proc) for proc in range(n_procs)]):
            future.result()
    for task in copies:
        origin = results[by_digest[task.digest]]
        twin = json.loads(json.dumps(origin))
        twin.update(student=task.student, reused_from=origin["student"])
        if twin.get("feedback_html"):
            dest = opts.out / "feedback" / task.student / f"{task.notebook}.html"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(opts.out / origin["feedback_html"], dest)
            twin["feedback_html"] = str(dest.relative_to(opts.out))
        finish(task, twin, f"identical to {origin['student']}'s notebook, result reused")
    ordered = [results[(t.student, t.notebook)] for t in tasks]
    bar.close(ordered)
    return ordered
