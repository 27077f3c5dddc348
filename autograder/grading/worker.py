"""Grading tasks in a trusted process (it never runs student code itself):

    python -m autograder.grading.worker TASK.json     one task
    python -m autograder.grading.worker --serve       tasks read from stdin, one JSON line each
                                                       ({"task": TASK.json, "log": LOG}); per task, a
                                                       line once its notebook has run ("stage":
                                                       "executed") and a reply line when its result is
                                                       written (:mod:`.limits`)

nbgrader autograde with the kernel in the sandbox (:mod:`.sandbox`) -> the grader's own probes in a
fresh sandbox (:mod:`.probes`) -> the judge's verdicts (:mod:`autograder.judge`) -> scores into the
gradebook and feedback (:mod:`.gradebook`) -> one result record (:mod:`.results`), handed back to
the runner, which starts this under wall-clock and memory limits (:mod:`.limits`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import nbformat

from .gradebook import apply_verdicts, export_row, scored_cells, unscored
from .limits import AHEAD_PID, SOCKETS_ENV
from .probes import start_probes
from .results import record, write_json

# Answer code that reaches into the grader or the interpreter's module table is listed for a human:
# it cannot change a verdict (those are computed outside the kernel), but it shows intent.
SUSPICIOUS = re.compile(r"\bautograder\b|sys\.modules|__builtins__|builtins\.")


def cells_after(executed: Path, stops: list[dict[str, Any]]) -> list[str] | None:
    """The grade cells that ran after the first cell the time limit stopped (their checks may read a
    training cut short); None when the stopped cell's place is unknown (then every grade cell counts)."""
    indices = [row["index"] for row in stops if isinstance(row.get("index"), int)]
    if not stops:
        return []
    if not indices:
        return None
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:
        return None
    first = min(indices)
    return [cell.metadata["nbgrader"]["grade_id"] for i, cell in enumerate(nb.cells)
            if i > first and cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")]


def gpu_memory_flags(executed: Path) -> list[str]:
    """Cells whose error says the GPU ran out of memory: that submission's own failure, named as such."""
    from . import devices
    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:
        return []
    flags = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = f"{output.get('ename', '')}: {output.get('evalue', '')}" if output.get("output_type") == "error" else ""
            if text and devices.gpu_out_of_memory(text):
                where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
                flags.append(f"{where}: the GPU ran out of memory ({text[:100]}); smaller batches or images fit "
                             "this submission's share of the GPU")
                break
    return flags


def integrity_flags(submitted: Path, restored: set[str]) -> list[str]:
    """Cells of the student's own code that touch the grader or the module table (for a human to review).
    ``restored``: the grade ids of the release's locked and test cells (put back from the source)."""
    try:
        nb = nbformat.read(submitted, as_version=4)
    except Exception:   # an unreadable notebook is reported as such elsewhere
        return []
    flags = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade_id") in restored:
            continue
        for line in cell.source.splitlines():
            if SUSPICIOUS.search(line):
                where = meta.get("grade_id") or f"cell {index}"
                flags.append(f"{where}: {line.strip()[:120]}")
    return flags


def served_data(log: Path) -> list[dict[str, str]]:
    """What the kernel's loaders served, once per dataset."""
    seen: dict[str, dict[str, str]] = {}
    for entry in _jsonl(log):
        seen.setdefault(entry.get("dataset", "?"), entry)
    return list(seen.values())


def restored_cells(source_nb: Path) -> set[str]:
    """Grade ids of the instructor's locked cells: whatever a submission puts there is replaced."""
    return {cell.metadata["nbgrader"]["grade_id"] for cell in nbformat.read(source_nb, as_version=4).cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("locked")}


def checks_in(trusted: dict[str, str]) -> list[str]:
    """The judge's checks that these grade cells' sources (:func:`trusted_sources`) name."""
    from .. import judge

    return [k for src in trusted.values() for k in judge.checks_of(src)]


def trusted_sources(source_nb: Path) -> dict[str, str]:
    """grade_id -> source of the grade cells of the instructor's notebook (the judge reads these)."""
    cells = {}
    for cell in nbformat.read(source_nb, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cells[meta["grade_id"]] = cell.source
    return cells


def sandbox_config(cfg: Any, task: dict[str, Any], sockets: Path) -> None:
    """Configure the sandboxed kernel of this task (see :mod:`.sandbox`); ``sockets``: a short path
    (a Unix socket's path may not exceed 107 bytes, whatever the student's name or the output folder)."""
    box = task.get("sandbox") or {}
    cfg.SandboxKernelManager.sandbox = bool(box.get("enabled"))
    cfg.SandboxKernelManager.socket_dir = str(sockets)
    cfg.SandboxKernelManager.ro_binds = list(box.get("ro", []))
    cfg.SandboxKernelManager.rw_binds = list(box.get("rw", []))
    cfg.SandboxKernelManager.sandbox_env = dict(box.get("env", {}))
    cfg.SandboxKernelManager.devices = list(box.get("devices", []))
    cfg.SandboxKernelManager.fsize_mb = int(box.get("fsize_mb", 0))
    cfg.SandboxedExecute.output_kb = int(task.get("output_kb", 256))
    cfg.SandboxedExecute.timeouts_file = str(Path(task["course_dir"]) / "timeouts.jsonl")


def run(task: dict[str, Any], ahead: dict[str, str] | None = None) -> dict[str, Any]:
    """Grade one task. ``ahead`` (``{"task": NEXT.json, "log": LOG}``): the task this worker runs
    next, whose kernel is started as soon as this task's notebook has run (see :func:`start_ahead`)."""
    root, t = Path(task["course_dir"]), _task_dir(task)
    here = os.path.realpath(t.autograded.parent)
    sockets = _SOCKETS.pop(here, None) or _socket_dir()
    _drop_stale_kernels(keep=here)
    try:
        return _run(task, root, t, _config(task, sockets), ahead)
    finally:
        _drop_kernel_of(here)                 # started ahead, but the notebook never asked for a kernel
        shutil.rmtree(sockets, ignore_errors=True)


# the socket folders of kernels started ahead, by their working directory; their processes, which
# the runner must not stop when this task ends
_SOCKETS: dict[str, Path] = {}
KEEP: list[int] = []
# what serving a task does once its notebook has run: a line that tells the runner (:mod:`.limits`)
EXECUTED: list[Callable[[], None]] = []


def _task_dir(task: dict[str, Any]) -> Any:
    from .course import TaskDir

    return TaskDir(Path(task["course_dir"]), task["assignment"], task["student"], task["notebook"])


def _config(task: dict[str, Any], sockets: Path) -> Any:
    """nbgrader's configuration for this task, its sandbox included (kernel sockets in ``sockets``)."""
    from .course import config_for

    cfg = config_for(Path(task["course_dir"]), cell_timeout=int(task["cell_timeout"]))
    cfg.CourseDirectory.notebook_id = task["notebook"]
    sandbox_config(cfg, task, sockets / "s")
    return cfg


def _socket_dir() -> Path:
    """A short folder for one kernel's sockets (a Unix socket's path may not exceed 107 bytes),
    inside the folder the runner removes with this worker."""
    base = os.environ.get(SOCKETS_ENV) or ("/tmp" if os.path.isdir("/tmp") else None)
    return Path(tempfile.mkdtemp(prefix="k", dir=base))


def start_ahead(ahead: dict[str, str]) -> int | None:
    """Start the next task's sandboxed kernel now, so its imports overlap with this task's judging,
    scoring and feedback; returns its process id (which must outlive this task), or None when the
    next task runs unconfined (its kernel inherits this process's environment at launch)."""
    from .sandbox import SandboxKernelManager

    task = json.loads(Path(ahead["task"]).read_text())
    if not (task.get("sandbox") or {}).get("enabled"):
        return None
    root = Path(task["course_dir"])
    cwd = _task_dir(task).autograded.parent
    cwd.mkdir(parents=True, exist_ok=True)     # nbgrader fills it: only a finished notebook there is replaced
    sockets = _socket_dir()
    cfg = _config(task, sockets)
    proc = SandboxKernelManager(config=cfg).start_ahead(str(cwd), Path(ahead["log"]))
    _SOCKETS[os.path.realpath(cwd)] = sockets
    (root / AHEAD_PID).write_text(str(proc.pid))     # the runner does not count it against this task
    return proc.pid


def _drop_stale_kernels(keep: str) -> None:
    """Kernels started ahead for another task than this one will not be used: stop them."""
    from .sandbox import SandboxKernelManager

    for cwd in [c for c in SandboxKernelManager.ahead if c != keep]:
        _drop_kernel_of(cwd)


def _drop_kernel_of(cwd: str) -> None:
    from .sandbox import SandboxKernelManager

    proc = SandboxKernelManager.ahead.pop(cwd, None)
    if proc is not None:
        proc.kill()
        proc.wait()
    shutil.rmtree(_SOCKETS.pop(cwd, Path("/nonexistent")), ignore_errors=True)


def _run(task: dict[str, Any], root: Path, t: Any, cfg: Any, ahead: dict[str, str] | None) -> dict[str, Any]:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .. import judge
    from .sandbox import SandboxedExecute, SandboxKernelManager

    started = time.monotonic()
    phases: dict[str, float] = {}
    mark = [started]

    def phase(name: str) -> None:          # where a task's time goes (the benchmark prints it)
        now = time.monotonic()
        phases[name] = round(phases.get(name, 0.0) + now - mark[0], 3)
        mark[0] = now

    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    result = record(t.student, t.assignment, t.notebook, task["profile"])
    SandboxedExecute.executed_s = 0.0
    SandboxKernelManager.handed_over = 0
    trusted = trusted_sources(root / "source" / t.assignment / f"{t.notebook}.ipynb")
    with start_probes(task, checks_in(trusted), root) as probes:
        # the grader's probes import what they need while the notebook runs (stopped if it does not end)
        executing = time.time()
        graded = api.autograde(t.assignment, t.student, force=True, create=True)
        result["executed_at"] = [round(executing, 3), round(time.time(), 3)]     # (epoch seconds)
        phase("autograde")
        if ahead:
            try:
                pid = start_ahead(ahead)
                if pid:
                    KEEP.append(pid)
            except Exception as exc:            # the next kernel then starts the usual way
                print(f"could not start the next task's kernel ahead: {exc}", flush=True)
        for tell in EXECUTED:            # the runner may let this worker's other process run its notebook
            tell()
        phases["execute"] = round(SandboxedExecute.executed_s, 3)
        result["kernel_started_ahead"] = SandboxKernelManager.handed_over > 0
        phases["autograde"] = round(phases["autograde"] - phases["execute"], 3)
        print(graded.get("log") or "", graded.get("error") or "", sep="\n", flush=True)  # into worker.log
        review: list[str] = []
        if graded.get("success") and t.autograded.is_file():
            evidence = Path(task["evidence_dir"])
            probed = probes.finish(t.autograded.parent)
            result["probes_started_cold"] = probes.cold_runs
            phase("probes")
            judged = time.monotonic()
            rows = [row for row in _jsonl(root / "timeouts.jsonl")
                    if isinstance(row, dict) and "cell" in row and isinstance(row.get("seconds"), (int, float))]
            stopped = {row["cell"]: row["seconds"] for row in rows}
            verdicts = judge.judge_cells(trusted, profile=task["profile"], evidence_dir=evidence,
                                         work_dir=t.autograded.parent, probe_dir=probed,
                                         private_dir=Path(task["private_dir"]) if task.get("private_dir") else None,
                                         stopped=stopped, after_stop=cells_after(t.autograded, rows),
                                         skip=task.get("skip_kinds", ()))
            if stopped:             # graded, but the time limit cut a cell short: the reason is said everywhere
                result["status"] = "timeout"
                result["reason"] = "; ".join(f"cell {cell} stopped after {seconds:g} s (time limit of one cell)"
                                             for cell, seconds in stopped.items()) + "; the cells after it still ran"
            result["judge_s"] = round(time.monotonic() - judged, 2)
            phase("judge")
            apply_verdicts(t, verdicts)
            review = [f"{v.grade_id}: {note}" for v in verdicts.values() for note in v.review]
            result["metrics"] = [m for v in verdicts.values() for m in v.metrics]
            result["verdicts"] = {v.grade_id: v.messages for v in verdicts.values()}
            result["cells"] = scored_cells(t.gradebook, t.assignment, t.student, t.notebook, t.autograded)
            phase("gradebook")
            feedback = api.generate_feedback(t.assignment, t.student, force=True)
            phase("feedback")
            result["nbgrader_export"] = export_row(t.gradebook, root / "nbgrader_grades.csv", t.student)
            phase("gradebook")
            result["feedback_html"] = str(t.feedback) if feedback.get("success") and t.feedback.is_file() else None
        else:
            log = (graded.get("log") or "") + (graded.get("error") or "")
            died = "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log.lower()
            result["status"] = "kernel_died" if died else "error"
            result["reason"] = ("the notebook's kernel died (a crash, e.g. out of memory or a segfault)"
                                if died else "nbgrader could not grade this notebook: " + _last_error(log))
            result["cells"] = unscored(t.gradebook, t.assignment, t.notebook, result["reason"])
            result["feedback_html"] = None
        source_nb = root / "source" / t.assignment / f"{t.notebook}.ipynb"
        result["flags"] = (integrity_flags(t.submitted, restored_cells(source_nb)) + review
                           + gpu_memory_flags(t.autograded))
        result["sandbox"] = "bubblewrap" if (task.get("sandbox") or {}).get("enabled") else "unconfined"
        phase("flags")
        result["phases"] = phases
        result["finished_at"] = round(time.time(), 3)
        result["elapsed_s"] = round(time.monotonic() - started, 2)
        result["data_served"] = served_data(Path(task["served_log"]))
        return result


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _last_error(log: str) -> str:
    lines = [ln.strip() for ln in log.splitlines() if ln.strip() and "SAWarning" not in ln]
    errors = [ln for ln in lines if "Error" in ln or "error" in ln]
    return (errors or lines or ["no log"])[-1][:300]


def serve(requests: Any, replies: Any) -> None:
    """Grade tasks as they come: the imports are paid once per worker, not once per notebook.
    Each task's output (nbgrader's log, the kernel's stderr) goes to that task's log file."""
    warm_up()
    for line in requests:
        request = json.loads(line)
        started = time.monotonic()
        reply: dict[str, Any] = {"task": request["task"], "ok": True}

        def executed(path: str = request["task"]) -> None:
            replies.write(json.dumps({"task": path, "stage": "executed"}) + "\n")
            replies.flush()
        EXECUTED[:] = [executed]
        with _output_to(Path(request["log"])):
            try:
                task = json.loads(Path(request["task"]).read_text())
                with _kernel_settings(task):
                    write_json(Path(task["result_path"]), run(task, request.get("next")))
            except Exception as exc:          # this task failed; the worker takes the next one
                import traceback
                traceback.print_exc()
                reply.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        reply["seconds"] = round(time.monotonic() - started, 3)
        reply["keep"], KEEP[:] = list(KEEP), []
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def warm_up() -> None:
    """Import what every task uses, build nbgrader's configuration and compile the feedback page's
    templates once (while the run sets itself up)."""
    from nbgrader.apps import NbGraderAPI  # noqa: F401
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    from .. import judge  # noqa: F401
    from .course import config_for
    cfg = config_for(Path(tempfile.gettempdir()))
    feedback = GenerateFeedback(coursedir=CourseDirectory(config=cfg), config=cfg)
    try:        # a page without grades does not render, but its templates are compiled by then
        feedback.exporter_class(parent=feedback, config=feedback.config).from_notebook_node(nbformat.v4.new_notebook())
    except Exception:
        pass


class _output_to:
    """Point this process's stdout and stderr (file descriptors 1 and 2, which child processes
    inherit) at ``log`` for the duration of one task."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def __enter__(self) -> None:
        sys.stdout.flush(), sys.stderr.flush()
        self.saved = os.dup(1), os.dup(2)
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1), os.dup2(fd, 2)
        os.close(fd)

    def __exit__(self, *exc: Any) -> None:
        sys.stdout.flush(), sys.stderr.flush()
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)


class _kernel_settings:
    """Unconfined grading: the kernel inherits this process's environment, so it gets this task's
    kernel settings (its evidence folder, requests, budgets) for the task's duration."""

    def __init__(self, task: dict[str, Any]) -> None:
        box = task.get("sandbox") or {}
        env = box.get("env", {}) if not box.get("enabled") else {}
        self.values = {k: v for k, v in env.items() if k.startswith("AUTOGRADER_") or k == "IPYTHONDIR"}

    def __enter__(self) -> None:
        self.saved = dict(os.environ)
        os.environ.update(self.values)

    def __exit__(self, *exc: Any) -> None:
        os.environ.clear()
        os.environ.update(self.saved)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        # the runner's channel, on descriptors no child inherits: nbgrader's, the probes' and the
        # kernels' standard input is /dev/null, their output goes to the task's log
        requests, replies = os.fdopen(os.dup(0), "r"), os.fdopen(os.dup(1), "w")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)
        serve(requests, replies)
        return 0
    task = json.loads(Path(argv[0]).read_text())
    with _kernel_settings(task):
        write_json(Path(task["result_path"]), run(task))
    return 0


if __name__ == "__main__":
    sys.exit(main())
