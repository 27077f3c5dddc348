"""Hand grading round trip: the sheet lists the written answers, the filled sheet updates every report."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from autograder.reports import manual


def _result(student, answer, score=None):
    return {"student": student, "assignment": "cnn_foundations", "notebook": "01-theory", "status": "graded",
            "reason": "", "profile": "smoke", "data_served": [], "feedback_html": None, "elapsed_s": 1.0,
            "cells": [{"grade_id": "q1_answer", "question": "q1", "kind": "manual", "score": score,
                       "max_score": 3.0, "needs_manual": score is None, "message": "", "answer": answer},
                      {"grade_id": "q2_tests", "question": "q2", "kind": "auto", "score": 2.0,
                       "max_score": 3.0, "needs_manual": False, "message": "AssertionError: x"}]}


@pytest.fixture
def out(tmp_path):
    for student, answer in (("ann", "Filters are learned kernels..."), ("bob", "YOUR ANSWER HERE")):
        path = tmp_path / "results" / student / "01-theory.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(_result(student, answer)))
    return tmp_path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, timeout=120)


def test_sheet_lists_pending_answers_and_scores_flow_into_the_reports(out):
    assert _cli("report", str(out)).returncode == 0
    sheet = pd.read_csv(out / "manual_to_grade.csv", keep_default_na=False)
    assert list(sheet["student"]) == ["ann", "bob"] and sheet.loc[0, "answer"].startswith("Filters are")
    sheet.loc[0, "score"] = "2.5"
    sheet.loc[0, "comment"] = "good, no example"
    sheet.to_csv(out / "filled.csv", index=False)
    done = _cli("report", str(out), "--manual", str(out / "filled.csv"))
    assert done.returncode == 0, done.stderr
    assert "applied 1 hand-graded score(s)" in done.stdout
    grades = pd.read_csv(out / "grades.csv").set_index("student")
    assert grades.loc["ann", "manual_score"] == 2.5 and grades.loc["ann", "manual_pending_points"] == 0
    assert grades.loc["bob", "manual_pending_points"] == 3
    assert list(pd.read_csv(out / "manual_to_grade.csv")["student"]) == ["bob"]   # only what is left


@pytest.mark.parametrize("score,problem", [("4", "outside 0..3"), ("lots", "not a number")])
def test_bad_scores_are_refused_naming_the_file_and_row(out, score, problem):
    _cli("report", str(out))
    sheet = pd.read_csv(out / "manual_to_grade.csv", keep_default_na=False)
    sheet["score"] = sheet["score"].astype(str)
    sheet.loc[1, "score"] = score
    sheet.to_csv(out / "filled.csv", index=False)
    bad = _cli("report", str(out), "--manual", str(out / "filled.csv"))
    assert bad.returncode == 2
    assert f"filled.csv, row 3: " in bad.stderr and problem in bad.stderr
    results = [json.loads(p.read_text()) for p in (out / "results").rglob("*.json")]
    assert all(c["score"] is None for r in results for c in r["cells"] if c["kind"] == "manual")


def test_unknown_student_is_refused(tmp_path):
    (tmp_path / "s.csv").write_text("student,grade_id,score\nzed,q1_answer,1\n")
    with pytest.raises(manual.ManualGradesError, match="no hand-graded cell 'q1_answer' for student 'zed'"):
        manual.apply([_result("ann", "x")], tmp_path / "s.csv")
