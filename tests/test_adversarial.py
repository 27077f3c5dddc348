"""The adversarial corpus: attacks on the grader, graded in one batch, with the outcome asserted.

Each attack (``tests/attacks/attacks.toml``) is written into the answer cell of a blank
``02-conv-arithmetic`` notebook, whose blank answer scores 0 of 7. The batch also grades a
reference solution (the victim, ``zz_victim``) and a blank student graded after the attacks
(``zz_later_blank``). Asserted: every attack scores what its base scores, the victim keeps full
marks, nothing reaches the network or the host's files, no grader secret or private file leaks
into any output, no process outlives grading, outputs and files stay bounded, feedback HTML carries
no script.
"""
import json
import os
import re
import socket
import threading
import time
import tomllib
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.demo import submissions
from autograder.grading import runner, sandbox
from autograder.judge.specs import SPECS
from autograder.judge.verdicts import _call
from autograder.reports import write_reports

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "02-conv-arithmetic"
ATTACKS = tomllib.loads((Path(__file__).with_name("attacks") / "attacks.toml").read_text())["attacks"]
SECRET = "lms-token-5f3a9c-do-not-leak"
MARKERS = ("sleep 986", "sleep 985", "attack-marker-987")
STUB = "\n\ndef conv_output_size(n: int, f: int, p: int, s: int) -> int:\n    raise NotImplementedError()\n"
FILE_MB = 64

pytestmark = pytest.mark.skipif(bool(sandbox.available()), reason=f"bubblewrap unusable: {sandbox.available()}")


def _host_ip() -> str:
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return "127.0.0.1"


class Listener:
    """What reaches the host over TCP and UDP while the batch is graded."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.tcp.listen(16)
        self.tcp.settimeout(0.5)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("0.0.0.0", 0))
        self.udp.settimeout(0.5)
        self.received: list[bytes] = []
        self.stop = False
        self.threads = [threading.Thread(target=self._tcp, daemon=True), threading.Thread(target=self._udp, daemon=True)]
        for t in self.threads:
            t.start()

    def _tcp(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.received.append(b"TCP:" + conn.recv(100))
            except OSError:
                self.received.append(b"TCP-CONNECTED")
            conn.close()

    def _udp(self) -> None:
        while not self.stop:
            try:
                self.received.append(b"UDP:" + self.udp.recv(100))
            except OSError:
                continue

    def close(self) -> None:
        self.stop = True
        for t in self.threads:
            t.join(2)
        self.tcp.close()
        self.udp.close()


def _source(attack: dict, fill: dict[str, str]) -> str:
    text = attack["source"]
    for key, value in fill.items():
        text = text.replace(f"@@{key}@@", value)
    return text.strip("\n") + ("" if "def conv_output_size" in text else STUB)


def _metadata_games(nb: nbformat.NotebookNode) -> None:
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    tests[0].metadata.nbgrader["grade_id"] = "q2_tests_mine"
    tests[0].source = "pass"
    for cell in tests[1:]:
        cell.metadata.nbgrader.update(points=100, locked=False, grade=False)
        cell.source = "pass"
    extra = nbformat.v4.new_code_cell("print('bonus')")
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 100, "solution": False,
                                  "locked": False, "schema_version": 3}
    nb.cells.append(extra)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attacks")
    subs, out = tmp / "submissions", tmp / "out"
    canary = tmp / "canary.txt"
    canary.write_text("original")
    listener = Listener()
    fill = {"OUT": str(out), "SUBS": str(subs), "REPO": str(REPO), "CANARY": str(canary),
            "PORT": str(listener.tcp.getsockname()[1]), "UDP": str(listener.udp.getsockname()[1]),
            "HOSTIP": _host_ip()}
    release = REPO / "release" / "cnn_foundations" / f"{NOTEBOOK}.ipynb"
    source = REPO / "source" / "cnn_foundations" / f"{NOTEBOOK}.ipynb"

    def write(student: str, nb: nbformat.NotebookNode) -> None:
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, subs / student / f"{NOTEBOOK}.ipynb")

    for name, attack in ATTACKS.items():
        nb = submissions.answered(source, release) if attack.get("base") == "reference" else nbformat.read(release, 4)
        if attack["source"]:
            submissions.apply_edit(nb, {"notebook": NOTEBOOK, "cell": "q2_code", "source": _source(attack, fill)}, name)
        if attack.get("markdown"):
            nb.cells.insert(1, nbformat.v4.new_markdown_cell(attack["markdown"]))
        if attack.get("metadata_games"):
            _metadata_games(nb)
        write(name, nb)
    write("blank", nbformat.read(release, 4))
    write("zz_victim", submissions.answered(source, release))
    write("zz_later_blank", nbformat.read(release, 4))

    os.environ["LMS_TOKEN"] = SECRET          # a grader secret: must reach no kernel and no output
    lines: list[str] = []
    started = time.monotonic()
    try:
        results = runner.grade(runner.Options(submissions=subs, assignment="cnn_foundations", out=out, workers=2,
                                              resume=False, reuse_identical=False, file_mb=FILE_MB, notebook_timeout=90,
                                              log=lines.append))
        write_reports(results, out, assignment="cnn_foundations", profile="smoke")
    finally:
        os.environ.pop("LMS_TOKEN", None)
    elapsed = time.monotonic() - started
    survivors = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
                 if any(m in " ".join(p.info["cmdline"] or []) for m in MARKERS)]
    time.sleep(1.5)
    listener.close()
    graded = {r["student"]: r for r in results if r["notebook"] == NOTEBOOK}
    return {"results": graded, "out": out, "canary": canary, "received": listener.received,
            "survivors": survivors, "lines": lines, "elapsed": elapsed}


def _auto(result: dict) -> float:
    return sum(c["score"] or 0 for c in result["cells"] if c["kind"] == "auto")


def _outputs(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(json.dumps(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")


def _autograded(out: Path, student: str) -> Path:
    return next(out.glob(f"work/tasks/{student}/{NOTEBOOK}/autograded/*/*/{NOTEBOOK}.ipynb"))


def test_the_corpus_is_large_and_each_attack_is_graded(batch):
    assert len(ATTACKS) >= 25
    assert set(ATTACKS) <= set(batch["results"])


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_scores_what_its_base_scores(batch, name):
    result = batch["results"][name]
    assert _auto(result) == ATTACKS[name].get("expect", 0), (result["status"], result["reason"],
                                                            [(c["grade_id"], c["score"], c["message"]) for c in result["cells"]])


def test_controls_victim_and_the_student_graded_after_the_attacks(batch):
    results = batch["results"]
    assert _auto(results["blank"]) == 0
    assert _auto(results["zz_victim"]) == 7 and results["zz_victim"]["status"] == "graded"
    assert _auto(results["zz_later_blank"]) == 0
    stored = json.loads((batch["out"] / "results" / "zz_victim" / f"{NOTEBOOK}.json").read_text())
    assert _auto(stored) == 7
    later = (batch["out"] / "results" / "zz_later_blank" / f"{NOTEBOOK}.json").read_text()
    assert "PLANTED" not in later and "POISONED" not in _outputs(_autograded(batch["out"], "zz_later_blank"))
    grades = (batch["out"] / "grades.csv").read_text()
    assert "EVIL" not in grades and "zz_victim" in grades


def test_nothing_reached_the_network(batch):
    assert batch["received"] == []


def test_no_process_outlived_grading(batch):
    assert batch["survivors"] == []


def test_host_files_and_the_kits_own_files_are_unchanged(batch):
    out = batch["out"]
    assert batch["canary"].read_text() == "original"
    for path in (out / "work" / "kernel_pkg").rglob("*.py"):
        assert "POISONED" not in path.read_text(), path
    assert not list((out / "results").glob("*/*.tmp"))


def test_no_secret_and_no_private_file_leaks_into_any_output(batch):
    out = batch["out"]
    for path in out.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert SECRET.encode() not in path.read_bytes(), path
    shown = _outputs(_autograded(out, "reads_private_files"))
    assert "LEAK:" not in shown and "blocked:" in shown
    assert "updated: []" in _outputs(_autograded(out, "gradebook_update"))


def test_hidden_cases_are_failed_without_naming_their_inputs(batch):
    result = batch["results"]["visible_cases_only"]
    message = next(c["message"] for c in result["cells"] if c["grade_id"] == "q2_tests")
    assert "inputs are not shown" in message
    html = (batch["out"] / result["feedback_html"]).read_text()
    request_cases = SPECS["cnn_foundations.q2#hidden"].request["cases"]
    for case in request_cases:
        assert _call("conv_output_size", list(case)) not in html and _call("conv_output_size", list(case)) not in message


def test_outputs_and_files_are_bounded(batch):
    out = batch["out"]
    assert _autograded(out, "long_lines").stat().st_size < 1_000_000           # 48 MiB printed
    assert "output cut" in _outputs(_autograded(out, "long_lines"))
    assert "stopped:" in _outputs(_autograded(out, "big_file"))                 # the 2 GiB write was cut
    data = out / "work" / "data"              # the kit's own staged data, shared by the batch
    sizes = [p.stat().st_size for p in out.rglob("*") if p.is_file() and data not in p.parents]
    assert max(sizes) < FILE_MB * 2**20 and sum(sizes) < 50 * 2**20


def test_feedback_html_carries_no_student_script(batch):
    result = batch["results"]["script_in_feedback"]
    html = (batch["out"] / result["feedback_html"]).read_text()
    assert "ATTACK-MD" in html                       # the markdown is shown, as text
    assert not re.search(r"<script[^>]*>\s*alert\('ATTACK", html)
    assert not re.search(r"<[a-z]+[^>]*\sonerror\s*=", html)
    assert not re.search(r"href\s*=\s*[\"']?javascript:", html)


def test_a_kernel_that_kills_everything_it_sees_only_ends_its_own_notebook(batch):
    result = batch["results"]["kill_everything"]
    assert result["status"] in ("graded", "kernel_died") and _auto(result) == 0
    assert _auto(batch["results"]["zz_victim"]) == 7


def test_the_batch_stays_fast(batch):
    # ~35 notebooks of a cheap assignment on 2 workers: the attacks must not stall grading
    assert batch["elapsed"] < 600, batch["elapsed"]
