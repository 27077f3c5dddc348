"""What the grader runs itself after the notebook, each in a fresh sandbox: the Streamlit app (its
evidence goes to a folder no sandbox is given, and only the judge reads it)."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any


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
