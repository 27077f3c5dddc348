"""What the grader runs itself after the notebook, each in a fresh sandbox, on the CPU: the Streamlit
app (its evidence goes to a folder no sandbox is given, and only the judge reads it).

A probe's process is started *before* the notebook runs (:func:`start_probes`): in its sandbox it
imports Streamlit and what the question's app needs (``preload`` in the check's request) while the
kernel works, then waits. Once the notebook has run, :meth:`Probes.finish` copies the notebook's
files into the probe's folder and lets it go; a warm process that died waiting (or crashed with the
app) is replaced by a cold one, so a preload never costs an app its verdict.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GO = b"go\n"


@dataclass
class _Probe:
    key: str
    request: dict[str, Any]
    run: Path                       # the notebook's files, bound read-write into the probe's sandbox
    out: Path                       # where the probe writes its evidence
    proc: subprocess.Popen[bytes] | None = None


@dataclass
class Probes:
    """The probes of one task, started ahead of the notebook's end."""
    task: dict[str, Any]
    root: Path
    probes: list[_Probe] = field(default_factory=list)
    cold_runs: int = 0              # probes that had to start afresh (the warm process was gone)

    def finish(self, work_dir: Path) -> Path:
        """Run every probe on a copy of ``work_dir`` (the executed notebook's folder); the evidence
        lands in ``root/probe`` (never bound into a sandbox)."""
        trusted = self.root / "probe"
        trusted.mkdir(exist_ok=True)
        timeout = int(self.task.get("cell_timeout", 600))
        for probe in self.probes:
            # symlinks stay links: followed here (outside any sandbox) they would copy in what they name
            shutil.copytree(work_dir, probe.run, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
            _open_to_sandbox(probe.run)
            produced = probe.out / "evidence.json"
            if not _go(probe, timeout):          # no warm process, or it crashed: once more, cold
                produced.unlink(missing_ok=True)
                self.cold_runs += 1
                probe.proc = _start(self.task, probe, warm=False)
                _wait(probe, timeout)
            if produced.is_file() and not produced.is_symlink():
                shutil.copyfile(produced, trusted / f"{probe.key.replace('#', '__')}.json")
            shutil.rmtree(probe.run, ignore_errors=True)
        return trusted

    def __enter__(self) -> "Probes":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        """Kill any probe still waiting (the notebook did not run to the end)."""
        for probe in self.probes:
            if probe.proc is not None and probe.proc.poll() is None:
                _kill(probe.proc)
            shutil.rmtree(probe.run, ignore_errors=True)


def start_probes(task: dict[str, Any], keys: list[str], root: Path) -> Probes:
    """Start, warm and waiting, a sandboxed probe per check among ``keys`` that the grader probes."""
    from .. import judge

    started = Probes(task, root)
    for n, (key, request) in enumerate(judge.probes(keys, task["profile"]).items()):
        run, out = root / f"probe_run{n}", root / f"probe_out{n}"
        for folder in (run, out):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            folder.chmod(0o777)                   # the sandbox's user may write there
        probe = _Probe(key, request, run, out)
        try:
            probe.proc = _start(task, probe, warm=True)
        except OSError as exc:                    # then it starts cold, after the notebook
            print(f"could not start the app probe ahead: {exc}", flush=True)
        started.probes.append(probe)
    return started


def _start(task: dict[str, Any], probe: _Probe, *, warm: bool) -> subprocess.Popen[bytes]:
    from . import devices
    from .sandbox import bwrap_command

    box = task.get("sandbox") or {}
    request = probe.request
    folder = Path(task["data_dir"]) / "heldout" / request["folder"]
    cmd = [os.path.join(sys.prefix, "bin", "python"), "-m", "autograder.kernel.app_probe"]
    if warm:
        cmd += ["--wait", ",".join(request.get("preload", ()))]
    cmd += [str(probe.run / request["app"]), str(folder), str(request.get("images", 6)),
            str(probe.out / "evidence.json")]
    # on the CPU (a worker's environment without a GPU): it runs while the worker's next notebook has its GPU
    env = devices.cpu_env(box.get("env", {}))
    if box.get("enabled"):
        cmd = bwrap_command(cmd, cwd=str(probe.run), ro=list(box.get("ro", [])), rw=[str(probe.run), str(probe.out)],
                            env=env, devices=[], fsize_mb=int(box.get("fsize_mb", 0)))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.Popen(cmd, cwd=probe.run, env=env, start_new_session=True,
                            stdin=subprocess.PIPE if warm else subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _go(probe: _Probe, timeout: int) -> bool:
    """Let a warm probe run; True when it recorded evidence (or ran out of time), False when there
    was none, it had died waiting, or it crashed without a word."""
    proc = probe.proc
    if proc is None or proc.poll() is not None or proc.stdin is None:
        return False
    try:
        proc.stdin.write(GO)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        proc.wait()
        return False
    code = _wait(probe, timeout)
    return code is None or (code == 0 and (probe.out / "evidence.json").is_file())


def _wait(probe: _Probe, timeout: int) -> int | None:
    assert probe.proc is not None
    try:
        return probe.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(probe.proc)
        (probe.out / "evidence.json").write_text(json.dumps({"problem": "the app did not finish in time"}))
        return None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _open_to_sandbox(run: Path) -> None:
    for path in (run, *run.rglob("*")):
        if not path.is_symlink():
            path.chmod(0o777 if path.is_dir() else 0o666)     # the sandbox's user may write there
