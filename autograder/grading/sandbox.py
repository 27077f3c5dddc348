"""Student kernels in a bubblewrap sandbox: unprivileged, no network, nothing but their own files.

:class:`SandboxKernelManager` is a jupyter_client kernel manager whose kernel command runs under
``bwrap``: a private PID namespace (every process the kernel starts dies with it), no network
namespace access, a read-only view of the system and the Python environment, the student-visible
data read-only, a writable work directory holding only this notebook's files, an evidence folder,
an allow-listed environment, a per-file size cap. The kernel talks to nbgrader over Unix sockets
(the ``ipc`` transport) in a directory bound into the sandbox.
"""
from __future__ import annotations

import json
import os
import time
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Integer, List, Unicode

from ..kernel import STARTUP

NOBODY = 65534
SYSTEM_RO = ("/usr", "/etc")
SYMLINKS = (("usr/lib", "/lib"), ("usr/lib64", "/lib64"), ("usr/bin", "/bin"), ("usr/sbin", "/sbin"))


@lru_cache(maxsize=1)
def available() -> str:
    """"" when bubblewrap works here, else the reason it does not."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
                                "--uid", str(NOBODY), "--gid", str(NOBODY), "true"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap failed to start: {err}"
    if probe.returncode != 0:
        return ("bubblewrap cannot create namespaces here (user namespaces disabled?): "
                + (probe.stderr.strip() or f"exit code {probe.returncode}"))
    return ""


def python_roots() -> list[str]:
    """Read-only paths the kernel's Python needs: the interpreter's prefix and the environment's."""
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(roots)


def bwrap_command(cmd: list[str], *, cwd: str, ro: list[str], rw: list[str], env: dict[str, str],
                  devices: list[str] = (), fsize_mb: int = 0) -> list[str]:
    """The ``bwrap`` argv that runs ``cmd`` in the sandbox with ``cwd`` as its working directory."""
    args = ["bwrap"]
    for path in SYSTEM_RO:
        args += ["--ro-bind", path, path]
    for target, link in SYMLINKS:
        if os.path.islink(link) or not os.path.exists(link):
            args += ["--symlink", target, link]
        else:
            args += ["--ro-bind", link, link]
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    for path in devices:                      # a GPU worker's device nodes, and only those
        if os.path.exists(path):
            args += ["--dev-bind", path, path]
    for path in [*python_roots(), *ro]:
        args += ["--ro-bind", path, path]
    for path in rw:
        args += ["--bind", path, path]
    args += ["--remount-ro", "/", "--chdir", cwd, "--unshare-all", "--die-with-parent", "--new-session",
             "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    prefix = ["prlimit", f"--fsize={fsize_mb * 2**20}"] if fsize_mb and shutil.which("prlimit") else []
    return prefix + args + ["--"] + cmd


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap (configured per task)."""

    sandbox = Bool(True, help="Run the kernel in the bubblewrap sandbox.").tag(config=True)
    socket_dir = Unicode("", help="Directory (bound into the sandbox) for the kernel's Unix sockets "
                                  "and connection file.").tag(config=True)
    ro_binds = List(Unicode(), help="Paths bound read-only at the same place.").tag(config=True)
    rw_binds = List(Unicode(), help="Paths bound writable at the same place (besides the work directory).").tag(config=True)
    sandbox_env = Dict(help="The kernel's whole environment (nothing else is inherited).").tag(config=True)
    devices = List(Unicode(), help="Device nodes passed in (a GPU worker's /dev/nvidia*).").tag(config=True)
    fsize_mb = Integer(0, help="Largest file the kernel may write, in MiB (0: no cap).").tag(config=True)

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.sandbox and self.socket_dir:
            os.makedirs(self.socket_dir, exist_ok=True)
            self.transport = "ipc"
            self.ip = os.path.join(self.socket_dir, "k")
            self.connection_file = os.path.join(self.socket_dir, "kernel.json")
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if self.sandbox and self.kernel_spec is not None:
            self.kernel_spec.interrupt_mode = "message"    # a signal would stop at bwrap, not the kernel
        return cmd, kw

    # kernels started ahead of need (:mod:`autograder.kernel.ahead`), by working directory
    ahead: dict[str, subprocess.Popen] = {}
    handed_over = 0          # kernels of this process that were started ahead (the worker reports it)

    def _sandboxed(self, cmd: list[str], cwd: str) -> list[str]:
        return bwrap_command(cmd, cwd=cwd, ro=list(self.ro_binds), rw=[cwd, self.socket_dir, *self.rw_binds],
                             env=dict(self.sandbox_env), devices=list(self.devices), fsize_mb=self.fsize_mb)

    def start_ahead(self, cwd: str, log: Path) -> subprocess.Popen:
        """Start this manager's future kernel now, up to the point where it needs its command line;
        :meth:`_async_launch_kernel` hands it over when nbgrader asks for a kernel in ``cwd``."""
        os.makedirs(self.socket_dir, exist_ok=True)
        cmd = self._sandboxed([os.path.join(sys.prefix, "bin", "python"), "-m", "autograder.kernel.ahead"], cwd)
        with open(log, "ab") as out:
            proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=out, stderr=out,
                                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, start_new_session=True)
        SandboxKernelManager.ahead[os.path.realpath(cwd)] = proc
        return proc

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kernel_cmd = [*kernel_cmd, f"--IPKernelApp.exec_lines={[STARTUP.strip()]!r}"]
        if self.sandbox:
            cwd = str(kw.get("cwd") or os.getcwd())
            python = [os.path.join(sys.prefix, "bin", "python") if part == sys.executable else part
                      for part in kernel_cmd]
            started = SandboxKernelManager.ahead.pop(os.path.realpath(cwd), None)
            if started is not None:
                # the kernel started ahead runs this environment's Python: only a `python -m ...`
                # kernel command can be handed to it; anything else is launched the usual way
                ours = python[:2] == [os.path.join(sys.prefix, "bin", "python"), "-m"]
                if ours and started.poll() is None and self._hand_over(started, python[1:], cwd):
                    SandboxKernelManager.handed_over += 1
                    return
                started.kill()
                started.wait()
            kernel_cmd = self._sandboxed(python, cwd)
            kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        await super()._async_launch_kernel(kernel_cmd, **kw)

    def _hand_over(self, proc: subprocess.Popen, argv: list[str], cwd: str) -> bool:
        """Give the kernel started ahead its command line and adopt it as this manager's kernel."""
        try:
            assert proc.stdin is not None
            proc.stdin.write((json.dumps(argv) + "\n").encode())
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            return False
        provisioner = self.provisioner
        provisioner.process, provisioner.pid, provisioner.cwd = proc, proc.pid, cwd
        try:
            provisioner.pgid = os.getpgid(proc.pid)
        except OSError:
            provisioner.pgid = None
        self._reconcile_connection_info(provisioner.connection_info)
        return True


class SandboxedExecute(Execute):
    """nbgrader's Execute with the kernel in the sandbox (see :class:`SandboxKernelManager`),
    keeping at most ``output_kb`` of output per cell: the rest is dropped as it arrives, with a note."""

    output_kb = Integer(256, help="Output kept per cell, in KiB (0: no cap); what a cell prints "
                                  "beyond it is dropped as it arrives and a note says so.").tag(config=True)

    timeouts_file = Unicode("", help="JSON lines: one per cell the per-cell time limit interrupted "
                                     "(grade id or cell number, seconds)").tag(config=True)

    executed_s = 0.0   # the last notebook's execution, kernel start included (the worker reports it)

    def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
        started = time.monotonic()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            SandboxedExecute.executed_s = time.monotonic() - started

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
        self._kept: dict[int, int] = {}

    async def _async_handle_timeout(self, timeout: int, cell: Any = None) -> Any:
        if self.timeouts_file and cell is not None:          # (None: waiting for the kernel to start)
            meta = cell.metadata.get("nbgrader", {}) or {}
            index = next((i for i, c in enumerate(getattr(self.nb, "cells", [])) if c is cell), None)
            name = meta.get("grade_id") or (f"cell {index + 1}" if index is not None else "a cell")
            with open(self.timeouts_file, "a") as fh:
                fh.write(json.dumps({"cell": name, "seconds": timeout, "index": index}) + "\n")
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs: list, msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        cap = self.output_kb * 1024
        if not cap or msg.get("msg_type") not in {"stream", "display_data", "execute_result", "error"}:
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content", {})
        size = _size(content)
        kept = self._kept.get(cell_index, 0)
        if msg["msg_type"] == "error":         # the error decides plain-assert cells: keep it, shortened
            if size > cap:
                content["evalue"] = str(content.get("evalue", ""))[:1024] + " [cut]"
                content["traceback"] = [line[:1024] for line in content.get("traceback", [])[-20:]]
            return super().output(outs, msg, display_id, cell_index)
        if kept + size > cap:
            if kept <= cap:
                self._kept[cell_index] = cap + 1
                outs.append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"\n[output cut: this cell printed more than {self.output_kb} KiB; "
                         f"the rest was not kept (output_kb in the grading profile)]\n"))
            return None
        self._kept[cell_index] = kept + size
        return super().output(outs, msg, display_id, cell_index)


def _size(content: dict[str, Any]) -> int:
    """Bytes of an output message's payload (text and display data)."""
    if "text" in content:
        return len(str(content["text"]).encode("utf-8", "replace"))
    data = content.get("data", {})
    return sum(len(v if isinstance(v, str) else json.dumps(v)) for v in data.values())


def kernel_package(dest: Path) -> Path:
    """A directory holding only ``autograder/kernel`` (what the sandbox may import of the kit)."""
    source = Path(__file__).resolve().parents[1] / "kernel"
    pkg = Path(dest) / "autograder"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, pkg / "kernel", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (pkg / "__init__.py").write_text('"""Only the kernel side of the kit is present in a sandbox."""\n')
    for path in [Path(dest), *Path(dest).rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Path(dest)
