"""The bubblewrap sandbox that holds student code: what code inside it can and cannot reach.

Each test runs a small attack as student code would, under the same ``bwrap`` command line the
grading kernels get, and asserts from outside what it achieved.
"""
import os
import socket
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from autograder.grading import sandbox

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(bool(sandbox.available()), reason=f"bubblewrap unusable: {sandbox.available()}")


def _run(tmp_path, code, *, env=None, fsize_mb=0, ro=(), timeout=60):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    cmd = sandbox.bwrap_command([sys.executable, "-c", textwrap.dedent(code)], cwd=str(work), ro=[str(p) for p in ro],
                                rw=[str(work)], env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **(env or {})},
                                fsize_mb=fsize_mb)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout), work


def test_runs_as_nobody_in_its_own_pid_namespace(tmp_path):
    out, _ = _run(tmp_path, "import os; print(os.getuid(), os.getgid(), os.getpid())")
    assert out.returncode == 0, out.stderr
    uid, gid, pid = map(int, out.stdout.split())
    assert (uid, gid) == (sandbox.NOBODY, sandbox.NOBODY)
    assert pid < 10


def test_no_network_not_even_the_hosts_loopback(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    code = f"""
    import socket, subprocess
    for family, address in ((socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_INET, ("10.0.2.2", 80))):
        s = socket.socket(family)
        s.settimeout(2)
        try:
            s.connect(address)
            print("CONNECTED", address)
        except OSError as err:
            print("refused", err.errno)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.sendto(b"x", ("127.0.0.1", {port}))
        print("udp sent in its own namespace")
    except OSError:
        print("udp refused")
    """
    out, _ = _run(tmp_path, code)
    server.settimeout(0.5)
    with pytest.raises(socket.timeout):
        server.accept()          # nothing from the sandbox reached the host's loopback
    server.close()
    assert out.returncode == 0, out.stderr
    assert "CONNECTED" not in out.stdout


def test_sees_no_kit_source_no_other_students_and_no_private_data(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (private / "labels.npy").write_text("secret labels")
    other = tmp_path / "other_student"
    other.mkdir()
    (other / "answer.ipynb").write_text("{}")
    code = f"""
    import os
    for path in [{REPO!r} + "/autograder/judge", {REPO!r} + "/source", {REPO!r} + "/solutions",
                 {str(private)!r}, {str(other)!r}, "/root/.ssh", "/home"]:
        print(path, os.path.exists(path) and bool(os.listdir(path)))
    """
    out, _ = _run(tmp_path, code)
    assert out.returncode == 0, out.stderr
    assert "True" not in out.stdout, out.stdout


def test_environment_is_an_allow_list(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_TOKEN", "s3cret-token")
    out, _ = _run(tmp_path, "import os; print(sorted(os.environ))", env={"AUTOGRADER_PROFILE": "smoke"})
    assert out.returncode == 0, out.stderr
    assert "LMS_TOKEN" not in out.stdout and "s3cret" not in out.stdout
    assert "AUTOGRADER_PROFILE" in out.stdout


def test_writes_only_in_its_work_directory_and_files_are_capped(tmp_path):
    code = f"""
    import os
    for path in ["/usr/evil", "/etc/evil", "/evil"]:
        try:
            open(path, "w").write("x")
            print("WROTE", path)
        except OSError:
            pass
    try:                     # the kit's folder is not there; under /tmp it lands in the sandbox's own tmpfs
        os.makedirs({REPO!r}, exist_ok=True)
        open({REPO!r} + "/evil", "w").write("x")
    except OSError:
        pass
    open("small.txt", "w").write("fine")
    try:
        with open("big.bin", "wb") as fh:
            fh.write(b"0" * (3 * 2**20))
        print("BIG WRITTEN")
    except OSError as err:
        print("capped", err)
    """
    out, work = _run(tmp_path, code, fsize_mb=1)
    assert "WROTE" not in out.stdout and "BIG WRITTEN" not in out.stdout, out.stdout + out.stderr
    assert (work / "small.txt").read_text() == "fine"
    assert not os.path.exists(os.path.join(REPO, "evil"))
    assert (work / "big.bin").stat().st_size <= 2**20


def test_no_process_outlives_the_sandbox(tmp_path):
    marker = f"sleeper-{time.time_ns()}"
    code = f"""
    import subprocess, os
    for _ in range(20):
        subprocess.Popen(["sleep", "300", "{marker}"], start_new_session=True)
    if os.fork() == 0:          # a double fork that waits for the grader to be gone
        if os.fork() == 0:
            os.setsid()
            os.execvp("sleep", ["sleep", "301", "{marker}"])
        os._exit(0)
    print("spawned")
    """
    out, _ = _run(tmp_path, code)
    assert "spawned" in out.stdout, out.stderr
    time.sleep(0.5)
    survivors = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    assert survivors == []
