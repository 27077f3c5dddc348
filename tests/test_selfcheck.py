"""`python -m autograder check`: a notebook's visible tests, run the way the grader runs them, and the
CI templates for a student repository that run it on push.

The templates are tested by running their steps' own commands in a temporary student repository
(release notebooks with answers filled in). Only the install step is not run: it needs the internet
(apt, git clone, pip), and this environment already has what it installs (the kit, its pinned
packages, bubblewrap and the Debian Fashion-MNIST). Steps that are actions (`uses:` checkout,
setup-python, upload-artifact) stand for the checkout this repository is, this interpreter, and a
file left in place.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.cli import main as cli
from autograder.demo.submissions import HIDDEN, answered
from autograder.grading import sandbox, selfcheck
from autograder.judge.specs import SPECS
from autograder.judge.verdicts import _call

REPO = Path(__file__).resolve().parents[1]
CONV = "02-conv-arithmetic"
SOURCE_NB = REPO / "source" / "cnn_foundations" / f"{CONV}.ipynb"
RELEASE_NB = REPO / "release" / "cnn_foundations" / f"{CONV}.ipynb"
SANDBOX = "unconfined" if sandbox.available() else "bubblewrap"
# Realistic mistakes: padding counted on one side only (the visible tests catch it), and a receptive
# field that ignores the strides (the visible cases have stride 1: only the hidden tests catch it)
ONE_SIDED = ("return (n + 2 * p - f) // s + 1", "return (n + p - f) // s + 1")
NO_JUMP = ("r += (kernel - 1) * jump", "r += kernel - 1")


def _reference() -> nbformat.NotebookNode:
    return answered(SOURCE_NB, RELEASE_NB)


def _edit(nb: nbformat.NotebookNode, grade_id: str, old: str, new: str) -> nbformat.NotebookNode:
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    assert old in cell.source
    cell.source = cell.source.replace(old, new)
    return nb


def _wrong() -> nbformat.NotebookNode:
    return _edit(_edit(_reference(), "q2_code", *ONE_SIDED), "q3_code", *NO_JUMP)


def _student_repo(root: Path, notebooks: dict[str, nbformat.NotebookNode]) -> Path:
    root.mkdir(parents=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, root / name)
    scratch = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('trying things')")])
    nbformat.write(scratch, root / "scratch.ipynb")        # not an assignment notebook: noted, skipped
    (root / "README.md").write_text("my solutions\n")
    return root


def _forbidden() -> list[str]:
    """What must never be shown: the source's hidden test code and the hidden checks' inputs and expected values."""
    hidden_code = [line.strip() for cell in nbformat.read(SOURCE_NB, 4).cells for block in HIDDEN.findall(cell.source)
                   for line in block.splitlines() if line.strip() and not line.strip().startswith("###")]
    shown = []
    for question in ("q2", "q3", "q4"):
        key = f"cnn_foundations.{question}"
        visible = SPECS[key].request["cases"]
        hidden = SPECS[f"{key}#hidden"].request
        shown += [_call(hidden["function"], case) for case in hidden["cases"] if case not in visible]
    return hidden_code + shown + ["hidden=True", "#hidden", "further test cases"]


def _installed_env(tmp: Path) -> dict[str, str]:
    """What the install step leaves: the kit and its packages importable, on PATH."""
    env = dict(os.environ)
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=f"{REPO}{os.pathsep}{env.get('PYTHONPATH', '')}".rstrip(os.pathsep),
               RUNNER_TEMP=str(tmp), CI="true")
    return env


def _github(workflow: dict, repo: Path, tmp: Path) -> dict:
    """Run the workflow's `run:` steps in order, as the runner does (bash -eo pipefail, stop at the first failure)."""
    summary = tmp / f"{repo.name}-summary.md"
    summary.write_text("earlier step's summary\n")
    env = _installed_env(tmp)
    env.update({k: str(v) for k, v in workflow.get("env", {}).items() if "${{" not in str(v)})
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    ran, out, status = [], "", 0
    for step in workflow["jobs"]["self-check"]["steps"]:
        if "uses" in step or step.get("id") == "install":
            continue
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                              env=env, capture_output=True, text=True, timeout=600)
        ran.append(step["name"])
        out += proc.stdout + proc.stderr
        status = proc.returncode
        if status:
            break
    return {"ran": ran, "out": out, "status": status, "summary": summary.read_text()}


def _gitlab(pipeline: dict, repo: Path, tmp: Path) -> dict:
    """Run the job's `script:` (the `before_script:` is the install) as one errexit shell, as the runner does."""
    job = pipeline["self-check"]
    env = _installed_env(tmp)
    env.update({k: str(v) for k, v in pipeline.get("variables", {}).items()})
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(job["script"])], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600)
    report = repo / job["artifacts"]["reports"]["junit"]
    assert job["artifacts"]["when"] == "always"
    return {"out": proc.stdout + proc.stderr, "status": proc.returncode,
            "junit": ET.parse(report).getroot() if report.is_file() else None}


INSTALL = re.compile(r"^(sudo )?apt-get |^git clone |^python -m pip install ")


def _install_only(lines: list[str]) -> bool:
    """The commands left out really are the install: apt, git clone, pip (each needs the internet)."""
    commands = [c.strip() for line in lines for c in line.split("&&") if c.strip()]
    return bool(commands) and all(INSTALL.match(c) for c in commands)


@pytest.fixture(scope="module")
def ci(tmp_path_factory):
    """Both templates run on a passing repository (the reference, renamed) and a failing one (realistic mistakes)."""
    tmp = tmp_path_factory.mktemp("selfcheck")
    good = _student_repo(tmp / "good", {f"Copy of {CONV} (1).ipynb": _reference()})
    bad = _student_repo(tmp / "bad", {f"{CONV}.ipynb": _wrong()})
    workflow, pipeline = (yaml.safe_load(selfcheck.ci_template(kind)) for kind in ("github", "gitlab"))
    return {"workflow": workflow, "pipeline": pipeline,
            ("github", "good"): _github(workflow, good, tmp), ("github", "bad"): _github(workflow, bad, tmp),
            ("gitlab", "good"): _gitlab(pipeline, good, tmp), ("gitlab", "bad"): _gitlab(pipeline, bad, tmp)}


def _cell_line(out: str, grade_id: str) -> str:
    return next(line for line in out.splitlines() if re.match(rf"\s+\w+\s+{grade_id}\s", line))


def test_the_reference_passes_and_every_visible_test_is_named(ci):
    run = ci[("github", "good")]
    assert run["status"] == 0, run["out"]
    assert run["ran"] == ["Prepare the offline data", "Run the visible tests"]
    out = run["out"]
    assert f"Copy of {CONV} (1).ipynb: cnn_foundations/{CONV} (recognised by its cells)" in out   # renamed
    assert f"sandbox: {SANDBOX}" in out
    for grade_id, points in (("q2_tests", 3), ("q3_tests", 2), ("q4_tests", 2)):
        assert re.match(rf"\s+PASS\s+{grade_id}\s+{points} pts\s+`\w+` is right on all \d cases", _cell_line(out, grade_id))
    for grade_id in ("q2_answer", "q3_answer", "q4_answer"):
        assert "graded by hand" in _cell_line(out, grade_id)
    assert "3 of 3 visible tests pass; 3 answers (6 points) are graded by hand." in out
    assert "Hidden tests also run at grading, in 3 of these cells (7 points); they are not run here." in out
    assert "note: skipped scratch.ipynb: not a notebook of any assignment" in out
    summary = run["summary"]
    assert summary.startswith("earlier step's summary\n## Self-check of the visible tests")   # appended
    assert "✅ every visible test passes" in summary
    assert "| `q2_tests` | 3 | ✅ pass | `conv_output_size` is right on all 3 cases" in summary
    assert "| `q2_answer` | 2 | ✍️ by hand | graded by hand |" in summary


def test_a_wrong_answer_fails_with_its_cell_named(ci):
    run = ci[("github", "bad")]
    assert run["status"] == 1, run["out"]
    assert run["ran"] == ["Prepare the offline data", "Run the visible tests"]
    out = run["out"]
    assert f"{CONV}.ipynb: cnn_foundations/{CONV};" in out
    assert re.match(r"\s+FAIL\s+q2_tests\s+3 pts\s+conv_output_size\(28, 3, 1, 1\) returned 27, expected 28",
                    _cell_line(out, "q2_tests"))
    assert _cell_line(out, "q4_tests").split()[0] == "PASS"
    assert "2 of 3 visible tests pass" in out
    summary = run["summary"]
    assert "❌ 2 of 3 visible tests pass" in summary
    assert "| `q2_tests` | 3 | ❌ fail | conv_output_size(28, 3, 1, 1) returned 27, expected 28" in summary


def test_hidden_tests_do_not_run_and_nothing_of_them_is_shown(ci):
    # the strides the wrong receptive_field ignores are only in the hidden cases: the grader's hidden test fails it...
    cell = next(c for c in _wrong().cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3_code")
    ns: dict = {}
    exec(cell.source, ns)
    from autograder.checks.formulas import receptive_field
    cases = SPECS["cnn_foundations.q3#hidden"].request["cases"]
    assert any(ns["receptive_field"](case[0]) != receptive_field(case[0]) for case in cases)
    assert all(ns["receptive_field"](case[0]) == receptive_field(case[0])
               for case in SPECS["cnn_foundations.q3"].request["cases"])
    # ...and the self-check, which runs only the visible tests, passes it
    assert _cell_line(ci[("github", "bad")]["out"], "q3_tests").split()[0] == "PASS"
    forbidden = _forbidden()
    assert 'check("cnn_foundations.q2", hidden=True)' in forbidden       # the detector looks for real hidden code
    assert sum("(" in f for f in forbidden) > 20                        # and for the hidden cases' calls
    shown = [ci[run]["out"] for run in (("github", "good"), ("github", "bad"), ("gitlab", "good"), ("gitlab", "bad"))]
    shown += [ci[("github", "good")]["summary"], ci[("github", "bad")]["summary"]]
    shown += [ET.tostring(ci[("gitlab", kind)]["junit"], encoding="unicode") for kind in ("good", "bad")]
    for text in shown:
        leaked = [f for f in forbidden if f in text]
        assert not leaked, leaked


def test_the_gitlab_job_reports_each_grade_cell_as_a_test(ci):
    good, bad = ci[("gitlab", "good")], ci[("gitlab", "bad")]
    assert good["status"] == 0, good["out"]
    assert bad["status"] == 1, bad["out"]
    for run, failing in ((good, set()), (bad, {"q2_tests (3 pts)"})):
        suite = run["junit"].find("testsuite")
        assert suite.get("name").startswith(f"cnn_foundations/{CONV} (")
        cases = {case.get("name"): case for case in suite.iter("testcase")}
        assert set(cases) == {"q2_answer (2 pts)", "q2_tests (3 pts)", "q3_answer (2 pts)", "q3_tests (2 pts)",
                              "q4_answer (2 pts)", "q4_tests (2 pts)"}
        assert {name for name, case in cases.items() if case.find("failure") is not None} == failing
        assert {name for name, case in cases.items() if case.find("skipped") is not None} == \
            {"q2_answer (2 pts)", "q3_answer (2 pts)", "q4_answer (2 pts)"}
        assert suite.get("failures") == str(len(failing))
    failure = {c.get("name"): c for c in bad["junit"].iter("testcase")}["q2_tests (3 pts)"].find("failure")
    assert failure.get("message") == "conv_output_size(28, 3, 1, 1) returned 27, expected 28"


def test_only_the_install_step_is_left_out(ci):
    steps = ci["workflow"]["jobs"]["self-check"]["steps"]
    install = next(s for s in steps if s.get("id") == "install")
    assert _install_only(install["run"].splitlines())
    assert _install_only(ci["pipeline"]["self-check"]["before_script"])
    check = next(s for s in steps if "autograder check" in s.get("run", ""))
    assert '--summary "$GITHUB_STEP_SUMMARY"' in check["run"]
    assert any("--junit self-check.xml" in line for line in ci["pipeline"]["self-check"]["script"])


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_print_ci_writes_the_template(kind, capsys):
    assert cli(["check", "--print-ci", kind]) == 0
    out = capsys.readouterr().out
    assert out == selfcheck.ci_template(kind)
    assert "python -m autograder check" in out


def test_bad_input_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    text = tmp_path / "notes.txt"
    text.write_text("not a notebook")
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), plain)
    empty = tmp_path / "empty"
    empty.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), scratch / "trying.ipynb")
    for args, named in (([text], "notes.txt: not a readable notebook"), ([broken], "broken.ipynb: not a readable notebook"),
                        ([plain], "plain.ipynb: not a notebook of any assignment"),
                        ([tmp_path / "missing.ipynb"], "missing.ipynb: no such file"),
                        ([empty], "empty: no notebooks in this folder"),
                        ([scratch], "scratch: no notebook of the course in this folder"),
                        ([RELEASE_NB, "--assignment", "nope"], "unknown assignment 'nope'")):
        assert cli(["check", *map(str, args)]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], captured
        assert "Traceback" not in captured.out + captured.err
    # in CI the summary and the test report say it too
    summary, report = tmp_path / "summary.md", tmp_path / "report.xml"
    assert cli(["check", str(text), "--summary", str(summary), "--junit", str(report)]) == 2
    assert "❌ error: " in summary.read_text() and "notes.txt: not a readable notebook" in summary.read_text()
    error = ET.parse(report).getroot().find("testsuite/testcase/error")
    assert "notes.txt: not a readable notebook" in error.get("message")


def test_where_bubblewrap_cannot_run_the_check_says_so_and_runs_unconfined(tmp_path, capsys, monkeypatch):
    notebook = tmp_path / "answers.ipynb"
    nbformat.write(_reference(), notebook)
    monkeypatch.setattr(sandbox, "available", lambda: "bubblewrap is not installed (here for this test)")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    summary = tmp_path / "summary.md"
    assert cli(["check", str(notebook), "--summary", str(summary)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("note: bubblewrap is not installed (here for this test); your code runs without the sandbox")
    assert f"answers.ipynb: cnn_foundations/{CONV} (recognised by its cells); profile smoke, sandbox: unconfined" in out
    assert "3 of 3 visible tests pass" in out
    assert "sandbox: unconfined" in summary.read_text()
