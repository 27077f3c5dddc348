"""One grading task in its own process: nbgrader autograde + feedback, then a result JSON.

    python -m autograder.grading.worker TASK.json

The task file names the course directory, student, assignment, notebook and result path.
The runner starts this under wall-clock and memory limits (:mod:`.limits`).
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
from typing import Any

import nbformat

from .results import record, write_json

QUESTION = re.compile(r"^(q\d+)")
# Answer code that reaches into the grader or the interpreter's module table is flagged for review:
# checks run in the student's kernel, so such code could replace them.
SUSPICIOUS = re.compile(r"\bautograder\b|sys\.modules|__builtins__|builtins\.")


def question_of(grade_id: str) -> str:
    m = QUESTION.match(grade_id)
    return m.group(1) if m else grade_id


def grade_cells(gradebook: Path, assignment: str, notebook: str) -> list[dict[str, Any]]:
    """The graded cells of a notebook as the gradebook knows them (source of truth for max points)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}") as gb:
        nb = gb.find_notebook(notebook, assignment)
        return [{"grade_id": c.name, "question": question_of(c.name),
                 "kind": "auto" if c.cell_type == "code" else "manual",
                 "score": 0.0 if c.cell_type == "code" else None, "max_score": float(c.max_score),
                 "needs_manual": c.cell_type != "code", "message": ""} for c in nb.grade_cells]


def read_autograded(autograded: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Per grade cell of the executed notebook: the error a failed test raised (as ``Error: message``,
    no source, no traceback) and the text of each hand-graded answer."""
    errors: dict[str, str] = {}
    answers: dict[str, str] = {}
    if not autograded.is_file():
        return errors, answers
    for cell in nbformat.read(autograded, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if meta.get("solution"):
            answers[meta["grade_id"]] = cell.source
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors[meta["grade_id"]] = f"{output.get('ename')}: {output.get('evalue')}".strip()
    return errors, answers


def unscored(gradebook: Path, assignment: str, notebook: str, reason: str) -> list[dict[str, Any]]:
    """Every graded cell of a notebook at 0 (hand-graded: pending) with ``reason``: nothing could run."""
    return [dict(c, message=reason) for c in grade_cells(gradebook, assignment, notebook)]


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


def scored_cells(gradebook: Path, assignment: str, student: str, notebook: str,
                 autograded: Path) -> list[dict[str, Any]]:
    from nbgrader.api import Gradebook

    errors, answers = read_autograded(autograded)
    cells = []
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        submission = gb.find_submission_notebook(notebook, assignment, student)
        for grade in sorted(submission.grades, key=lambda g: g.cell.id if g.cell else 0):
            manual = grade.cell_type != "code"
            score = None if manual and grade.needs_manual_grade else float(grade.score or 0.0)
            cells.append({"grade_id": grade.name, "question": question_of(grade.name),
                          "kind": "manual" if manual else "auto", "score": score,
                          "max_score": float(grade.max_score), "needs_manual": bool(grade.needs_manual_grade),
                          "message": errors.get(grade.name, "")})
            if manual:
                cells[-1]["answer"] = answers.get(grade.name, "")
    order = {c["grade_id"]: i for i, c in enumerate(grade_cells(gradebook, assignment, notebook))}
    return sorted(cells, key=lambda c: order.get(c["grade_id"], len(order)))


def export_row(gradebook: Path, to: Path, student: str) -> dict[str, Any] | None:
    """nbgrader's own CSV export of this task's gradebook; the student's row (the runner sums them)."""
    import csv

    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(to)
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        plugin.export(gb)
    with open(to, newline="") as fh:
        return next((row for row in csv.DictReader(fh) if row["student_id"] == student), None)


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


def trusted_sources(source_nb: Path) -> dict[str, str]:
    """grade_id -> source of the grade cells of the instructor's notebook (the judge reads these)."""
    cells = {}
    for cell in nbformat.read(source_nb, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            cells[meta["grade_id"]] = cell.source
    return cells


def apply_verdicts(t: Any, verdicts: dict[str, Any]) -> None:
    """Write the judge's scores into the gradebook (nbgrader's API) and its messages into the
    executed notebook, in place of whatever the student's kernel printed in those cells."""
    from nbformat.v4 import new_output
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{t.gradebook}") as gb:
        for grade_id, verdict in verdicts.items():
            try:
                grade = gb.find_grade(grade_id, t.notebook, t.assignment, t.student)
            except Exception:
                continue
            grade.auto_score = float(grade.max_score) if verdict.passed else 0.0
        gb.db.commit()
    if not t.autograded.is_file():
        return
    nb = nbformat.read(t.autograded, as_version=4)
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        verdict = verdicts.get(grade_id)
        if verdict is None or cell.cell_type != "code":
            continue
        cell.outputs = [new_output("stream", name="stdout", text="\n".join(verdict.messages) + "\n")]
        if not verdict.passed:
            first = next((m for m in verdict.messages if m.startswith("FAILED: ")), "FAILED: check failed")
            cell.outputs.append(new_output("error", ename="CheckFailed", evalue=first[len("FAILED: "):],
                                           traceback=[f"CheckFailed: {first[len('FAILED: '):]}"]))
    nbformat.write(nb, t.autograded)


def run_probes(task: dict[str, Any], work_dir: Path, keys: list[str], root: Path) -> Path:
    """Run what the grader probes itself (the Streamlit app) in a fresh sandbox, after the notebook,
    on a copy of the notebook's files; the evidence lands in ``root/probe`` (never bound into a sandbox)."""
    import signal
    import subprocess

    from .. import judge
    from .sandbox import bwrap_command

    trusted = root / "probe"
    trusted.mkdir(exist_ok=True)
    box = task.get("sandbox") or {}
    for n, (key, request) in enumerate(judge.probes(keys, task["profile"]).items()):
        run, out = root / f"probe_run{n}", root / f"probe_out{n}"
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(work_dir, run, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        out.mkdir(exist_ok=True)
        for path in (run, out, *run.rglob("*")):
            path.chmod(0o777 if path.is_dir() else 0o666)     # the sandbox's user may write there
        folder = Path(task["data_dir"]) / "heldout" / request["folder"]
        cmd = [os.path.join(sys.prefix, "bin", "python"), "-m", "autograder.kernel.app_probe",
               str(run / request["app"]), str(folder), str(request.get("images", 6)), str(out / "evidence.json")]
        env = dict(box.get("env", {}))
        if box.get("enabled"):
            cmd = bwrap_command(cmd, cwd=str(run), ro=list(box.get("ro", [])), rw=[str(run), str(out)], env=env,
                                devices=list(box.get("devices", [])), fsize_mb=int(box.get("fsize_mb", 0)))
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        proc = subprocess.Popen(cmd, cwd=run, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=int(task.get("cell_timeout", 600)))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            (out / "evidence.json").write_text(json.dumps({"problem": "the app did not finish in time"}))
        produced = out / "evidence.json"
        if produced.is_file() and not produced.is_symlink():
            shutil.copyfile(produced, trusted / f"{key.replace('#', '__')}.json")
        shutil.rmtree(run, ignore_errors=True)
    return trusted


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


def run(task: dict[str, Any]) -> dict[str, Any]:
    from .course import TaskDir, config_for

    root = Path(task["course_dir"])
    t = TaskDir(root, task["assignment"], task["student"], task["notebook"])
    cfg = config_for(root, cell_timeout=int(task["cell_timeout"]))
    cfg.CourseDirectory.notebook_id = t.notebook
    sockets = Path(tempfile.mkdtemp(prefix="ag-", dir="/tmp" if os.path.isdir("/tmp") else None))
    try:
        sandbox_config(cfg, task, sockets / "s")
        return _run(task, root, t, cfg)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _run(task: dict[str, Any], root: Path, t: Any, cfg: Any) -> dict[str, Any]:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .. import judge
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    started = time.monotonic()
    result = record(t.student, t.assignment, t.notebook, task["profile"])
    graded = api.autograde(t.assignment, t.student, force=True, create=True)
    print(graded.get("log") or "", graded.get("error") or "", sep="\n", flush=True)  # into worker.log
    review: list[str] = []
    if graded.get("success") and t.autograded.is_file():
        evidence = Path(task["evidence_dir"])
        trusted = trusted_sources(root / "source" / t.assignment / f"{t.notebook}.ipynb")
        probed = run_probes(task, t.autograded.parent, [k for src in trusted.values() for k in judge.checks_of(src)],
                            root)
        judged = time.monotonic()
        verdicts = judge.judge_cells(trusted, profile=task["profile"], evidence_dir=evidence,
                                     work_dir=t.autograded.parent, probe_dir=probed,
                                     private_dir=Path(task["private_dir"]) if task.get("private_dir") else None)
        apply_verdicts(t, verdicts)
        result["judge_s"] = round(time.monotonic() - judged, 2)
        review = [f"{v.grade_id}: {note}" for v in verdicts.values() for note in v.review]
        result["metrics"] = [m for v in verdicts.values() for m in v.metrics]
        result["cells"] = scored_cells(t.gradebook, t.assignment, t.student, t.notebook, t.autograded)
        feedback = api.generate_feedback(t.assignment, t.student, force=True)
        result["nbgrader_export"] = export_row(t.gradebook, root / "nbgrader_grades.csv", t.student)
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
    result["flags"] = integrity_flags(t.submitted, restored_cells(source_nb)) + review
    result["sandbox"] = "bubblewrap" if (task.get("sandbox") or {}).get("enabled") else "unconfined"
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    task = json.loads(Path(argv[0]).read_text())
    write_json(Path(task["result_path"]), run(task))
    return 0


if __name__ == "__main__":
    sys.exit(main())
