"""Self-check: a notebook's visible tests, run the way the grader runs them, before it is handed in.

``python -m autograder check NOTEBOOK...`` recognises each file as the grader does (by its nbgrader
cells, so a renamed copy is still the right notebook) and grades it with the grading runner: the
same sandbox where bubblewrap works, kernel hook, limits and judge, but with the *release* as the
nbgrader source. Hidden tests are not in what runs, and checks on held-out data are left to the
grader. Each grade cell's verdict is printed; a Markdown summary (a CI job summary) and JUnit XML
(a CI test report) can be written too.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import judge
from . import collect, runner, sandbox
from .worker import trusted_sources

RELEASE = runner.REPO / "release"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "student-ci"
CI_TEMPLATES = {"github": "github-workflow.yml", "gitlab": "gitlab-ci.yml"}
BY_HAND = "graded by hand"


class BadInput(ValueError):
    """A file that is not a notebook of the course; the message names it."""


@dataclass
class Cell:
    grade_id: str
    points: float
    status: str                    # pass | fail | manual | grader (only checks the grader measures)
    messages: list[str] = field(default_factory=list)
    hidden: str = ""               # what else runs at grading: hidden tests, a held-out measurement


@dataclass
class Report:
    path: Path
    assignment: str
    notebook: str
    profile: str
    sandbox: str = ""
    status: str = "graded"
    reason: str = ""
    elapsed_s: float = 0.0
    cells: list[Cell] = field(default_factory=list)

    @property
    def tested(self) -> list[Cell]:
        return [c for c in self.cells if c.status in ("pass", "fail")]

    @property
    def passed(self) -> bool:
        return bool(self.cells) and all(c.status != "fail" for c in self.cells)


def assignments(release: Path = RELEASE) -> list[str]:
    if not release.is_dir():
        raise FileNotFoundError(f"{release}: no release notebooks here; install the kit from a copy of the course "
                                "repository (pip install -e .)")
    return sorted(p.name for p in release.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def identify(path: Path, release: Path = RELEASE, assignment: str | None = None) -> tuple[str, str]:
    """(assignment, release notebook name) of ``path``, recognised by its nbgrader cells as the grader does."""
    names = assignments(release)
    if assignment is not None and assignment not in names:
        raise BadInput(f"unknown assignment {assignment!r}; choose one of {', '.join(names)}")
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        ids = collect.grade_ids(path)
    except (ValueError, UnicodeDecodeError, AttributeError, OSError) as exc:
        raise BadInput(f"{path}: not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})") from None
    notebooks = {(name, stem): wanted for name in ([assignment] if assignment else names)
                 for stem, wanted in collect.expected_notebooks(release / name).items()}
    best = collect.most_similar(ids, notebooks, named=lambda key: key[1] == path.stem)
    if best is None:
        where = f"assignment {assignment}" if assignment else f"any assignment ({', '.join(names)})"
        raise BadInput(f"{path}: not a notebook of {where}: none of its cells is an assignment cell")
    sub = collect.identify("you", [path], collect.expected_notebooks(release / best[0]))
    problems = [p for p in sub.notes if "not a readable notebook" in p]
    if problems:
        raise BadInput(f"{path}: {problems[0]}")
    return best[0], next(name for name, p in sub.notebooks.items() if p == path)


def expand(paths: list[Path], release: Path = RELEASE,
           assignment: str | None = None) -> tuple[list[tuple[Path, str, str]], list[str], list[str]]:
    """Files to check as (path, assignment, notebook), error lines, notes. A folder stands for the
    assignment notebooks under it (other notebooks are noted and skipped; hidden folders are not searched)."""
    found, errors, notes = [], [], []
    names = assignments(release)
    if assignment is not None and assignment not in names:
        return [], [f"unknown assignment {assignment!r}; choose one of {', '.join(names)}"], []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.ipynb")
                           if not any(part.startswith(".") for part in p.relative_to(path).parts))
            before = len(found)
            for file in files:
                try:
                    found.append((file, *identify(file, release, assignment)))
                except BadInput as exc:
                    notes.append(f"skipped {exc}")
            if len(found) == before:
                errors.append(f"{path}: no notebook of the course in this folder" if files else
                              f"{path}: no notebooks in this folder")
            continue
        try:
            found.append((path, *identify(path, release, assignment)))
        except BadInput as exc:
            errors.append(str(exc))
    return found, errors, notes


def _hidden(source: str) -> str:
    """What the grader adds to a grade cell: its hidden tests (named by kind only, never their code or values)."""
    kinds = {judge.SPECS[f"{key}#hidden"].kind for key in judge.checks_of(source) if f"{key}#hidden" in judge.SPECS}
    if kinds & judge.HELDOUT:
        return "hidden tests at grading, on held-out data the grader holds"
    return "hidden tests at grading" if kinds else ""


def _left_to_grader(source: str) -> bool:
    keys = judge.checks_of(source)
    return bool(keys) and all(key in judge.SPECS and judge.SPECS[key].kind in judge.HELDOUT for key in keys)


def _report(path: Path, assignment: str, notebook: str, result: dict, release: Path) -> Report:
    sources = trusted_sources(release / assignment / f"{notebook}.ipynb")
    verdicts = result.get("verdicts") or {}
    report = Report(path, assignment, notebook, result.get("profile", ""), result.get("sandbox", ""),
                    result.get("status", ""), result.get("reason", ""), float(result.get("elapsed_s") or 0))
    for row in result.get("cells", []):
        grade_id, source = row["grade_id"], sources.get(row["grade_id"], "")
        cell = Cell(grade_id, float(row["max_score"]), "manual", hidden=_hidden(source))
        if row["kind"] == "manual":
            cell.messages = [BY_HAND]
        elif _left_to_grader(source) and report.status in ("graded", "timeout"):
            cell.status, cell.messages = "grader", [judge.LEFT_TO_GRADER]
        else:
            ok = (row["score"] or 0) >= row["max_score"]
            cell.status = "pass" if ok else "fail"
            lines = verdicts.get(grade_id) or []
            if ok:
                cell.messages = lines
            else:
                cell.messages = [m[len("FAILED: "):] for m in lines if m.startswith("FAILED: ")]
                cell.messages = cell.messages or [row.get("message") or report.reason or "this test failed"]
        report.cells.append(cell)
    return report


def run(files: list[tuple[Path, str, str]], *, profile: str = "smoke", unconfined: bool = False,
        release: Path = RELEASE, log: Callable[[str], None] = print) -> list[Report]:
    """Grade each file against the release of its assignment (one grading run per assignment)."""
    reason = "" if unconfined else sandbox.available()
    if reason:
        log(f"note: {reason}; your code runs without the sandbox here (the grader runs it in bubblewrap)")
    reports: dict[int, Report] = {}
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as tmp:
        for assignment in sorted({a for _, a, _ in files}):
            mine = [(i, path, name) for i, (path, a, name) in enumerate(files) if a == assignment]
            subs = Path(tmp) / assignment / "submissions"
            for i, path, _ in mine:          # one "student" per file, under its own file name
                (subs / f"file{i}").mkdir(parents=True)
                shutil.copyfile(path, subs / f"file{i}" / path.name)
            opts = runner.Options(submissions=subs, assignment=assignment, out=Path(tmp) / assignment / "out",
                                  profile=profile, source_root=release, release_root=release, resume=False,
                                  unconfined=unconfined or bool(reason), held_out=False, progress=False,
                                  pipeline=False, log=lambda line: None)   # (a student's machine: fewer processes)
            results = {(r["student"], r["notebook"]): r for r in runner.grade(opts)}
            for i, path, name in mine:
                reports[i] = _report(path, assignment, name, results[(f"file{i}", name)], release)
    return [reports[i] for i in sorted(reports)]


def _pt(points: float) -> str:
    return f"{points:g} pt" + ("s" if points != 1 else "")


def _also(cell: Cell) -> str:
    """The note on what grading adds to a cell (a cell the grader measures anyway says so already)."""
    return "" if cell.status == "grader" else cell.hidden


def _hidden_line(cells: list[Cell]) -> str:
    hidden = [c for c in cells if c.hidden]
    if not hidden:
        return "This notebook has no hidden tests."
    return (f"Hidden tests also run at grading, in {len(hidden)} of these cells "
            f"({sum(c.points for c in hidden):g} points); they are not run here.")


LABELS = {"pass": "PASS", "fail": "FAIL", "manual": "manual", "grader": "grader"}


def text(report: Report) -> str:
    """The terminal report of one notebook."""
    where = f"{report.assignment}/{report.notebook}"
    renamed = "" if report.path.stem == report.notebook else " (recognised by its cells)"
    lines = [f"{report.path}: {where}{renamed}; profile {report.profile}, sandbox: {report.sandbox}, "
             f"{report.elapsed_s:.0f} s"]
    if report.status != "graded":
        lines.append(f"  {report.status}: {report.reason}")
    width = max((len(c.grade_id) for c in report.cells), default=0)
    for cell in report.cells:
        lines.append(f"  {LABELS[cell.status]:<6} {cell.grade_id:<{width}}  {_pt(cell.points):>7}  "
                     + "; ".join(cell.messages) + (f"  [+ {_also(cell)}]" if _also(cell) else ""))
    tested, by_hand = report.tested, [c for c in report.cells if c.status == "manual"]
    passing = sum(c.status == "pass" for c in tested)
    hand = (f"; {len(by_hand)} answer{'s' * (len(by_hand) != 1)} ({sum(c.points for c in by_hand):g} points) "
            f"{'are' if len(by_hand) != 1 else 'is'} graded by hand") if by_hand else ""
    lines.append((f"  {passing} of {len(tested)} visible tests pass" if tested else "  no auto-graded tests") + hand + ".")
    lines.append("  " + _hidden_line(report.cells))
    return "\n".join(lines)


ICONS = {"pass": "✅ pass", "fail": "❌ fail", "manual": "✍️ by hand", "grader": "⏳ grader"}


def markdown(reports: list[Report], errors: list[str] = ()) -> str:
    """A Markdown summary of every notebook (for a CI job summary), after the files that could not be checked."""
    from ..reports.naming import md_cell

    out = ["## Self-check of the visible tests", ""]
    out += [f"- ❌ error: {md_cell(line)}" for line in errors]
    out += [""] if errors else []
    for report in reports:
        tested = report.tested
        passing = sum(c.status == "pass" for c in tested)
        verdict = "✅ every visible test passes" if report.passed else f"❌ {passing} of {len(tested)} visible tests pass"
        out += [f"### `{md_cell(report.path)}`: {report.assignment} / {report.notebook}", "",
                f"{verdict} (profile {report.profile}, sandbox: {report.sandbox})", ""]
        if report.status != "graded":
            out += [f"**{report.status}**: {md_cell(report.reason)}", ""]
        out += ["| cell | points | visible tests | message |", "|---|---:|---|---|"]
        out += [f"| `{c.grade_id}` | {c.points:g} | {ICONS[c.status]} | {md_cell('; '.join(c.messages))}"
                + (f" _(+ {_also(c)})_" if _also(c) else "") + " |" for c in report.cells]
        out += ["", _hidden_line(report.cells), ""]
    return "\n".join(out) + "\n"


def junit(reports: list[Report], errors: list[str] = ()) -> str:
    """JUnit XML: a test suite per notebook, a test case per grade cell (GitLab's test report); a file that
    could not be checked is an error."""
    root = ET.Element("testsuites", name="self-check")
    if errors:
        suite = ET.SubElement(root, "testsuite", name="files", tests=str(len(errors)), errors=str(len(errors)))
        for line in errors:
            case = ET.SubElement(suite, "testcase", classname="self-check", name=line.split(": ", 1)[0])
            ET.SubElement(case, "error", message=line).text = line
    for report in reports:
        suite = ET.SubElement(root, "testsuite", name=f"{report.assignment}/{report.notebook} ({report.path})",
                              tests=str(len(report.cells)),
                              failures=str(sum(c.status == "fail" for c in report.cells)),
                              skipped=str(sum(c.status in ("manual", "grader") for c in report.cells)),
                              time=f"{report.elapsed_s:.1f}")
        for cell in report.cells:
            case = ET.SubElement(suite, "testcase", classname=f"{report.assignment}.{report.notebook}",
                                 name=f"{cell.grade_id} ({_pt(cell.points)})")
            message = "; ".join(cell.messages)
            if cell.status == "fail":
                ET.SubElement(case, "failure", message=message).text = message
            elif cell.status in ("manual", "grader"):
                ET.SubElement(case, "skipped", message=message)
            if cell.hidden:
                ET.SubElement(case, "system-out").text = f"+ {cell.hidden}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def ci_template(kind: str) -> str:
    """The CI file for a student repository: ``github`` (GitHub Actions) or ``gitlab`` (GitLab CI)."""
    return (TEMPLATES / CI_TEMPLATES[kind]).read_text()


def main(paths: list[Path], *, assignment: str | None = None, profile: str = "smoke", unconfined: bool = False,
         summary: Path | None = None, junit_path: Path | None = None) -> int:
    """0: every visible test passes; 1: some fail; 2: a file is not a notebook of the course."""
    files, errors, notes = expand(paths, assignment=assignment)
    for line in notes:
        print(f"note: {line}")
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    reports = run(files, profile=profile, unconfined=unconfined) if files else []
    for report in reports:
        print(text(report))
    if summary is not None:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(markdown(reports, errors))
    if junit_path is not None:
        Path(junit_path).write_text(junit(reports, errors), encoding="utf-8")
    if errors:
        return 2
    return 0 if all(r.passed for r in reports) else 1


__all__ = ["BadInput", "Cell", "Report", "identify", "expand", "run", "text", "markdown", "junit", "ci_template",
           "main"]
