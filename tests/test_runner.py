"""The grading runner on a tiny course: what students really hand in, graded in isolation.

Each bad submission scores what it earned, the batch goes on, and a second run resumes.
"""
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import release
from autograder.grading import runner
from autograder.grading.nbconfig import course_config  # noqa: F401  (import check)
from autograder.reports import load_results, write_reports


def _cell(kind, source, grade_id=None, **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "locked": False,
                                     "solution": False, "grade": False, **meta}
        cell.id = grade_id.replace("_", "-")
    return cell


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = cells
    return nb


SQUARE = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
TESTS = ("import sys, warnings\nprint('a harmless message on stderr', file=sys.stderr)\n"
         "warnings.warn('a harmless warning')\nassert square(3) == 9, 'square(3) should be 9'")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    src = root / "source" / "tiny"
    src.mkdir(parents=True)
    nbformat.write(_notebook([
        _cell("markdown", "Implement `square`."),
        _cell("code", SQUARE, "t_code", solution=True),
        _cell("code", TESTS, "t_tests", grade=True, locked=True, points=2),
        _cell("code", "assert square(5) == 25\nsquare(5)  # a returned value is not partial credit", "t_value",
              grade=True, locked=True, points=1),
    ]), src / "01-tiny.ipynb")
    nbformat.write(_notebook([
        _cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
              "d_code", solution=True),
        _cell("code", "assert double(4) == 8", "d_tests", grade=True, locked=True, points=1),
    ]), src / "02-other.ipynb")
    release.generate(root, ["tiny"])
    return root


def _answered(course, name, replace=None):
    nb = nbformat.read(course / "source" / "tiny" / name, 4)
    for cell in nb.cells:
        cell.source = cell.source.replace("    ### BEGIN SOLUTION\n", "").replace("\n    ### END SOLUTION", "")
        if replace and cell.metadata.get("nbgrader", {}).get("grade_id") == replace[0]:
            cell.source = replace[1]
    return nb


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("out")
    other = _answered(course, "02-other.ipynb")

    def student(name, tiny=None, raw=None, tiny_name="01-tiny.ipynb", other_name="02-other.ipynb"):
        folder = subs / name
        folder.mkdir()
        if raw is not None:
            (folder / tiny_name).write_text(raw)
        elif tiny is not None:
            nbformat.write(tiny, folder / tiny_name)
        nbformat.write(other, folder / other_name)

    student("good", _answered(course, "01-tiny.ipynb"))
    student("wrong", _answered(course, "01-tiny.ipynb", ("t_code", "def square(x):\n    return x + x")))
    student("loops", _answered(course, "01-tiny.ipynb", ("t_code", "while True:\n    pass")))
    student("crashes", _answered(course, "01-tiny.ipynb", ("t_code", "import os\nos._exit(1)")))
    student("memory_hog", _answered(course, "01-tiny.ipynb",
                                    ("t_code", "import time\nblob = b'x' * (1200 * 2**20)\ntime.sleep(60)")))
    student("huge_output", _answered(course, "01-tiny.ipynb",
                                     ("t_code", "for i in range(200000):\n    print(i)\n" + SQUARE)))
    student("long_lines", _answered(course, "01-tiny.ipynb",
                                    ("t_code", "import sys\nfor i in range(40):\n    sys.stdout.write('x' * 2**20)\n" + SQUARE)))
    student("malformed", raw="{ this is not a notebook")
    for name, answer in (("cell_games_right", None), ("cell_games_wrong", ("t_code", "def square(x):\n    return 0"))):
        games = _answered(course, "01-tiny.ipynb", answer)
        tests = [c for c in games.cells if c.metadata.get("nbgrader", {}).get("grade")]
        tests[0].metadata.nbgrader.grade_id = "t_tests_mine"           # renamed and gutted
        tests[0].source = "pass"
        tests[1].metadata.nbgrader.update(points=50, locked=False, grade=False)   # edited role and points
        tests[1].source = "pass"
        games.cells.append(_cell("code", "print('bonus')", "bonus", grade=True, points=100))  # an added grade cell
        games.cells.append(_cell("markdown", "**mine** <script>alert(1)</script> <img src=x onerror=alert(2)>"))
        games.cells.append(_cell("code", "from IPython.display import HTML\nHTML('<script>alert(3)</script>"
                                         "<img src=x onerror=alert(4)>')"))
        student(name, games)
    student("renamed", _answered(course, "01-tiny.ipynb"), tiny_name="Copy of 01-tiny (1).ipynb",
            other_name="other.ipynb")
    tamper = _answered(course, "01-tiny.ipynb", ("t_code", "def square(x):\n    return 0"))
    for cell in tamper.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass  # tests removed"
    student("tampers", tamper)
    student("patches_checks", _answered(course, "01-tiny.ipynb", ("t_code", SQUARE + "\nimport autograder.checks as c\nc.require = print")))
    dup = _answered(course, "01-tiny.ipynb")
    dup.cells.insert(2, nbformat.from_dict(json.loads(json.dumps(dup.cells[1]))))
    dup.cells[2].id = "dup-cell"
    student("duplicates", dup)
    student("missing_notebook")
    zipped = subs.parent / "zipsrc"
    zipped.mkdir()
    nbformat.write(_answered(course, "01-tiny.ipynb"), zipped / "01-tiny.ipynb")
    with zipfile.ZipFile(subs / "zipped.zip", "w") as zf:
        zf.write(zipped / "01-tiny.ipynb", "my work/01-tiny.ipynb")
    lines = []
    opts = runner.Options(submissions=subs, assignment="tiny", out=out, profile="smoke", workers=2,
                          source_root=course / "source", release_root=course / "release",
                          cell_timeout=6, notebook_timeout=60, memory_mb=900, log=lines.append)
    results = runner.grade(opts)
    return {(r["student"], r["notebook"]): r for r in results}, opts, lines


def _scores(result):
    return {c["grade_id"]: c["score"] for c in result["cells"]}


def test_correct_submission_gets_full_marks_despite_stderr_and_return_values(graded):
    results, _, _ = graded
    assert results[("good", "01-tiny")]["status"] == "graded"
    assert results[("good", "01-tiny")]["sandbox"] == "bubblewrap"
    assert _scores(results[("good", "01-tiny")]) == {"t_tests": 2.0, "t_value": 1.0}


def test_wrong_answer_loses_the_points_with_a_message(graded):
    results, _, _ = graded
    r = results[("wrong", "01-tiny")]
    assert _scores(r) == {"t_tests": 0.0, "t_value": 0.0}
    assert "square(3) should be 9" in {c["grade_id"]: c["message"] for c in r["cells"]}["t_tests"]


def test_infinite_loop_is_interrupted_and_the_rest_is_graded(graded):
    results, _, _ = graded
    r = results[("loops", "01-tiny")]
    assert r["status"] == "timeout" and _scores(r) == {"t_tests": 0.0, "t_value": 0.0}
    assert "stopped after 6 s (time limit of one cell); the cells after it still ran" in r["reason"]
    assert r["elapsed_s"] < 60
    assert _scores(results[("loops", "02-other")]) == {"d_tests": 1.0}


def test_kernel_crash_scores_zero_with_a_reason_and_other_notebooks_count(graded):
    results, _, _ = graded
    r = results[("crashes", "01-tiny")]
    assert r["status"] in {"kernel_died", "error"} and r["reason"]
    assert _scores(r) == {"t_tests": 0.0, "t_value": 0.0}
    assert _scores(results[("crashes", "02-other")]) == {"d_tests": 1.0}


def test_memory_cap_stops_the_notebook(graded):
    results, _, _ = graded
    r = results[("memory_hog", "01-tiny")]
    assert r["status"] == "memory" and "memory" in r["reason"]
    assert _scores(r) == {"t_tests": 0.0, "t_value": 0.0}
    assert _scores(results[("memory_hog", "02-other")]) == {"d_tests": 1.0}


def test_huge_output_is_cut_but_graded(graded):
    results, _, _ = graded
    assert _scores(results[("huge_output", "01-tiny")]) == {"t_tests": 2.0, "t_value": 1.0}


def test_long_lines_are_cut_as_they_arrive_with_a_note(graded):
    results, opts, _ = graded
    r = results[("long_lines", "01-tiny")]
    assert _scores(r) == {"t_tests": 2.0, "t_value": 1.0}
    kept = list(opts.out.glob("work/tasks/long_lines/01-tiny/autograded/**/*.ipynb"))
    assert kept and kept[0].stat().st_size < 1_000_000                  # 40 MiB printed
    assert "output cut: this cell printed more than" in kept[0].read_text()


def test_cell_roles_and_points_come_from_the_release_not_the_submission(graded):
    results, _, _ = graded
    right, wrong = results[("cell_games_right", "01-tiny")], results[("cell_games_wrong", "01-tiny")]
    assert _scores(right) == {"t_tests": 2.0, "t_value": 1.0}          # the renamed/edited tests are put back
    assert _scores(wrong) == {"t_tests": 0.0, "t_value": 0.0}
    assert sum(c["max_score"] for c in right["cells"]) == 3.0           # no bonus cell, no edited points


def test_feedback_html_has_no_student_script_or_event_handler(graded):
    results, opts, _ = graded
    r = results[("cell_games_right", "01-tiny")]
    html = (opts.out / r["feedback_html"]).read_text()
    assert "<strong>mine</strong>" in html                              # markdown still renders
    for attack in ("<script>alert", "onerror=alert(2)>", "onerror=\"alert", "onerror=alert(4)>"):
        assert attack not in html, attack


def test_malformed_notebook_is_named_and_the_batch_goes_on(graded):
    results, _, _ = graded
    r = results[("malformed", "01-tiny")]
    assert r["status"] == "error" and "01-tiny.ipynb is not a readable notebook" in r["reason"]
    assert _scores(r) == {"t_tests": 0.0, "t_value": 0.0}
    assert _scores(results[("malformed", "02-other")]) == {"d_tests": 1.0}


def test_renamed_and_zipped_notebooks_are_identified(graded):
    results, _, lines = graded
    assert _scores(results[("renamed", "01-tiny")]) == {"t_tests": 2.0, "t_value": 1.0}
    assert _scores(results[("renamed", "02-other")]) == {"d_tests": 1.0}
    assert any("graded as 01-tiny.ipynb" in line for line in lines)
    assert _scores(results[("zipped", "01-tiny")]) == {"t_tests": 2.0, "t_value": 1.0}


def test_tampered_tests_are_restored(graded):
    results, _, _ = graded
    assert _scores(results[("tampers", "01-tiny")]) == {"t_tests": 0.0, "t_value": 0.0}


def test_duplicated_cells_and_missing_notebooks(graded):
    results, _, _ = graded
    assert _scores(results[("duplicates", "01-tiny")]) == {"t_tests": 2.0, "t_value": 1.0}
    missing = results[("missing_notebook", "01-tiny")]
    assert missing["status"] == "missing" and "not submitted" in missing["reason"]


def test_feedback_never_shows_hidden_source(graded):
    results, opts, _ = graded
    html = (opts.out / results[("wrong", "01-tiny")]["feedback_html"]).read_text()
    assert "square(3) should be 9" in html and "most recent call last" not in html


def test_second_run_resumes_without_regrading(graded):
    results, opts, _ = graded
    lines = []
    opts.log = lines.append
    again = {(r["student"], r["notebook"]): r for r in runner.grade(opts)}
    assert {k: _scores(v) for k, v in again.items()} == {k: _scores(v) for k, v in results.items()}
    graded_lines = [ln for ln in lines if ln.startswith("[")]
    assert graded_lines and all(("resumed" in ln or "not graded" in ln or "identical" in ln) for ln in graded_lines)


def test_shards_partition_the_class():
    students = [f"student{i:03d}" for i in range(200)]
    shards = [[s for s in students if runner.in_shard(s, i, 4)] for i in range(4)]
    assert sorted(sum(shards, [])) == students
    assert all(20 < len(shard) < 80 for shard in shards)
    with pytest.raises(ValueError, match="shard 4/4"):
        runner.grade(runner.Options(submissions=Path("."), assignment="tiny", out=Path("."), shard=(4, 4),
                                    source_root=Path("/nonexistent")))


def test_shards_sharing_an_output_folder_give_the_class_wide_files_of_one_run(course, tmp_path):
    import pandas as pd
    subs, out = tmp_path / "subs", tmp_path / "out"
    names = ["ada", "bob", "cyd", "dee"]
    for name in names:
        (subs / name).mkdir(parents=True)
        wrong = ("t_code", "def square(x):\n    return x + x") if name in ("bob", "dee") else None
        nbformat.write(_answered(course, "01-tiny.ipynb", wrong), subs / name / "01-tiny.ipynb")
    assert {runner.in_shard(n, 0, 2) for n in names} == {True, False}     # both shards have students
    for index in (0, 1):
        runner.grade(runner.Options(submissions=subs, assignment="tiny", out=out, workers=2, shard=(index, 2),
                                    source_root=course / "source", release_root=course / "release",
                                    log=lambda line: None))
    write_reports(load_results(out / "results"), out, assignment="tiny", profile="smoke")   # what `report` does
    export = pd.read_csv(out / "nbgrader_grades.csv").set_index("student_id")
    assert export["score"].to_dict() == {"ada": 3.0, "bob": 0.0, "cyd": 3.0, "dee": 0.0}
    grades = pd.read_csv(out / "grades.csv").set_index("student")
    assert grades["auto_score"].to_dict() == export["score"].to_dict()


def test_nbgrader_export_agrees_with_the_kit_scores(graded):
    import pandas as pd
    results, opts, _ = graded
    write_reports(list(results.values()), opts.out, assignment="tiny", profile="smoke")
    export = pd.read_csv(opts.out / "nbgrader_grades.csv").set_index("student_id")["score"].to_dict()
    ours: dict[str, float] = {}
    for (student, _), result in results.items():
        ours[student] = ours.get(student, 0.0) + sum(c["score"] or 0 for c in result["cells"])
    assert export == ours


def test_answers_touching_the_grader_are_flagged_for_review(graded):
    import pandas as pd
    results, opts, lines = graded
    write_reports(list(results.values()), opts.out, assignment="tiny", profile="smoke")
    assert results[("patches_checks", "01-tiny")]["flags"] == ["t_code: import autograder.checks as c"]
    assert results[("good", "01-tiny")]["flags"] == []
    flagged = pd.read_csv(opts.out / "flagged_for_review.csv")
    assert flagged.to_dict("records") == [{"student": "patches_checks", "notebook": "01-tiny",
                                           "where": "t_code: import autograder.checks as c"}]
    assert any("flagged for review" in line for line in lines)


def test_unconfined_grading_works_and_every_report_says_so(course, tmp_path):
    from autograder.reports import write_reports
    subs = tmp_path / "subs"
    (subs / "solo").mkdir(parents=True)
    nbformat.write(_answered(course, "01-tiny.ipynb"), subs / "solo" / "01-tiny.ipynb")
    (subs / "wrong").mkdir(parents=True)     # the same worker's next task: its own kernel settings, evidence
    nbformat.write(_answered(course, "01-tiny.ipynb", ("t_code", "def square(x):\n    return x + x")),
                   subs / "wrong" / "01-tiny.ipynb")
    opts = runner.Options(submissions=subs, assignment="tiny", out=tmp_path / "out", profile="smoke", workers=1,
                          source_root=course / "source", release_root=course / "release", unconfined=True,
                          cell_timeout=30, notebook_timeout=120, log=lambda line: None)
    results = {(r["student"], r["notebook"]): r for r in runner.grade(opts)}
    solo = results[("solo", "01-tiny")]
    assert solo["sandbox"] == "unconfined" and _scores(solo) == {"t_tests": 2.0, "t_value": 1.0}
    assert _scores(results[("wrong", "01-tiny")]) == {"t_tests": 0.0, "t_value": 0.0}
    write_reports(list(results.values()), tmp_path / "out", assignment="tiny", profile="smoke")
    assert (tmp_path / "out" / "summary.md").read_text().startswith("WARNING: student code ran UNCONFINED")


def test_workers_live_for_the_run_and_start_each_next_kernel_ahead(graded):
    """Two workers for the whole class (not a process per notebook; two grading processes each, so
    that a notebook's probes, judge and feedback overlap the next notebook), never more than two
    notebooks running at once, and every notebook a process takes after its first runs in a kernel
    started ahead of need, with the same verdicts (the correct, wrong, looping, crashing and
    tampering students above all run in such kernels)."""
    results, opts, _ = graded
    logs = sorted((opts.out / "work" / "workers").glob("worker-*.log"))
    assert len(logs) == 2 * 2
    ran = [r for r in results.values() if "phases" in r and not r.get("reused_from")]
    ahead = [r for r in ran if r.get("kernel_started_ahead")]
    # not ahead: each process's first, the one after the memory kill, and at most one per process at
    # the end of the queue (a process keeps no spare task while another would idle)
    assert len(ran) >= 8 and len(ahead) >= len(ran) - 4 - 1 - 4
    assert all(r["phases"]["execute"] > 0 for r in ran)
    assert {r["process"] for r in ran} == {0, 1, 2, 3} and all(r["worker"] == r["process"] % 2 for r in ran)
    for worker in (0, 1):      # a worker runs one notebook at a time, on its own devices
        spans = sorted(r["executed_at"] for r in ran if r["worker"] == worker)
        assert all(b[0] >= a[1] for a, b in zip(spans, spans[1:]))
    # and its next notebook ran while the grader still worked on the one before (probes, judge, feedback)
    assert any(o["worker"] == r["worker"] and r["executed_at"][1] <= o["executed_at"][0] < r["finished_at"]
               for r in ran for o in ran)
