"""The README's demo, run as a user runs it: its grade table is asserted, not just printed.

This is also where every notebook's hidden checks are shown to pass on the reference solution and
to fail on realistic wrong answers (autograder/demo/rosters/<assignment>.toml says which test each edit
breaks).
"""
import json
import subprocess
import sys

import pandas as pd
import pytest

from autograder.demo import submissions

EXPECTED_AUTO = {"reference": 28, "blank": 0, "wrong_output_layer": 25, "chance_accuracy": 26,
                 "name_error": 26, "deleted_cells": 25, "no_bias": 26, "fragile_app": 25, "rounding": 25,
                 # realistic answers written the way students write them: full marks
                 "keras_idioms": 28, "keras_subclassed": 28, "pytorch_textbook": 28, "reported_mismatch": 28,
                 # realistic wrong answers: exactly their points lost
                 "untrained_twins": 25, "cifar_untrained": 26, "lookup_cheat": 26,
                 # attacks on the grader, on a blank answer: what the blank answer scores
                 "attack_gut_checks": 0, "attack_forged_evidence": 0}
# cnn_architectures: a student with edits hands in only the notebook(s) they touch (01-theory 5 points,
# 02-lenet5 5, 03-vgg16-transfer 8, 04-alexnet-filters 4, 05-inception-cifar10 7, 06-xray-triage 8)
EXPECTED_ARCHITECTURES = {"reference": 37, "blank": 0, "dense_no_bias": 4, "paper_alexnet": 4, "no_shortcut": 3,
                          "lenet_wrong_filters": 3, "lenet_stuck_at_chance": 3, "lenet_timed_compile": 4,
                          "lenet_pytorch_padded": 5, "vgg_base_not_frozen": 4, "vgg_wrong_head": 5,
                          "vgg_raw_pixels": 7, "vgg_unfreeze_all": 4, "alexnet_random_filters": 2,
                          "alexnet_after_pooling": 2, "alexnet_one_figure": 2, "inception_plain_cnn": 5,
                          "inception_one_curve": 5, "inception_resized_299": 0,
                          "triage_weights_unused": 7, "triage_weights_inverted": 7, "triage_not_frozen": 4,
                          "triage_batchnorm_drift": 6, "triage_report_swapped": 7, "triage_pickled_model": 7,
                          "attack_heldout_order": 6}
# pooling_lenet_alexnet, the same way (01-pooling-padding 6 points, 02-lenet5 5, 03-alexnet 7)
EXPECTED_POOLING = {"reference": 18, "blank": 0, "min_pool_returns_max": 4, "pool_zero_padding": 3,
                    "same_off_by_one": 4, "attack_constant_inputs": 2,
                    "lenet_wrong_filters": 2, "lenet_no_subsampling": 2, "lenet_pytorch_valid28": 5,
                    "alexnet_no_dropout": 6, "alexnet_no_eval": 6, "alexnet_stuck_at_chance": 5,
                    "alexnet_paper_count": 6, "alexnet_upscaled_224": 4, "alexnet_keras_small": 7}
EXPECTED = {"cnn_foundations": EXPECTED_AUTO, "cnn_architectures": EXPECTED_ARCHITECTURES,
            "pooling_lenet_alexnet": EXPECTED_POOLING}


@pytest.fixture(scope="module")
def demo(repo, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    proc = subprocess.run([sys.executable, "-m", "autograder", "demo", "--out", str(out), "--no-resume"],
                          cwd=repo, capture_output=True, text=True, timeout=2400)
    return proc, out / "cnn_foundations"


def test_demo_exits_cleanly_and_says_the_table_matches(demo):
    proc, _ = demo
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Every demo submission scored exactly what its edits must cost" in proc.stdout


def test_demo_prints_where_each_similarity_report_is(demo):
    proc, out = demo
    for assignment in EXPECTED:
        path = out.parent / assignment / "similarity.html"
        assert f"similarity report (evidence for a human to review, not a verdict): {path}" in proc.stdout
        assert path.is_file() and (path.parent / "similarity.csv").is_file()


def test_grade_table(demo):
    _, out = demo
    grades = pd.read_csv(out / "grades.csv").set_index("student")
    assert grades["auto_score"].to_dict() == EXPECTED_AUTO
    assert set(grades["auto_max"]) == {28}
    assert (grades["status"] == "ok").all()
    assert grades.loc["blank", "manual_score"] == 0      # unanswered written answers score 0 at once
    assert grades.loc["reference", "manual_pending_points"] == 17


def test_rosters_match_the_expected_tables():
    assert submissions.assignments() == sorted(EXPECTED)
    for assignment, table in EXPECTED.items():
        assert set(submissions.students(assignment)) == set(table)


def _each_lost_exactly_its_cells(folder, roster):
    """Every result of a roster: the notebooks a student hands in are graded, the others missing, and
    each auto-graded cell scores full marks unless the student's edits must cost it."""
    for path in (folder / "results").rglob("*.json"):
        result = json.loads(path.read_text())
        handed_in = roster[result["student"]]["notebooks"]
        assert (result["status"] == "missing") == (handed_in is not None and result["notebook"] not in handed_in)
        if result["status"] == "missing":
            continue
        lost = roster[result["student"]]["lost"]
        for cell in result["cells"]:
            if cell["kind"] == "auto":
                want = 0 if lost == "all" or cell["grade_id"] in lost else cell["max_score"]
                assert cell["score"] == want, (result["student"], cell["grade_id"], cell["message"])


def test_cnn_architectures_table(demo):
    _, out = demo
    grades = pd.read_csv(out.parent / "cnn_architectures" / "grades.csv").set_index("student")
    assert grades["auto_score"].to_dict() == EXPECTED_ARCHITECTURES
    assert (grades.loc[["reference", "blank"], "status"] == "ok").all()
    assert grades.loc["vgg_raw_pixels", "status"].count("missing") == 5          # handed in 03-vgg16-transfer only
    assert "05-inception-cifar10: memory" in grades.loc["inception_resized_299", "status"]
    roster = submissions.students("cnn_architectures")
    _each_lost_exactly_its_cells(out.parent / "cnn_architectures", roster)
    messages = {c["grade_id"]: c["message"] for c in json.loads(
        (out.parent / "cnn_architectures" / "results" / "lenet_wrong_filters" / "02-lenet5.json").read_text())["cells"]}
    assert "found conv 32 -> conv 64" in messages["q6_model_tests"]
    feedback = (out.parent / "cnn_architectures" / "feedback" / "lenet_pytorch_padded" / "02-lenet5.html").read_text()
    assert "61,706 parameters" in feedback and "through the transform of your test loader `testloader`" in feedback
    messages = {c["grade_id"]: c["message"] for c in json.loads(
        (out.parent / "cnn_architectures" / "results" / "inception_resized_299" / "05-inception-cifar10.json").read_text())["cells"]}
    assert all("of memory" in m for m in messages.values())
    feedback = (out.parent / "cnn_architectures" / "feedback" / "reference" / "05-inception-cifar10.html").read_text()
    assert "Inception module(s)" in feedback and "one per epoch" in feedback
    messages = {c["grade_id"]: c["message"] for c in json.loads(
        (out.parent / "cnn_architectures" / "results" / "vgg_raw_pixels" / "03-vgg16-transfer.json").read_text())["cells"]}
    assert "raw pixels" in messages["q7_preprocess_tests"] and "preprocess_input" in messages["q7_preprocess_tests"]
    messages = {c["grade_id"]: c["message"] for c in json.loads(
        (out.parent / "cnn_architectures" / "results" / "triage_weights_inverted" / "06-xray-triage.json").read_text())["cells"]}
    assert "COVID19 0.125" in messages["q10_weights_tests"] and "inversely proportional" in messages["q10_weights_tests"]
    feedback = (out.parent / "cnn_architectures" / "feedback" / "reference" / "06-xray-triage.html").read_text()
    assert "recall per class: COVID19" in feedback and "stand-in for the COVID-19 Radiography Database" in feedback
    summary = (out.parent / "cnn_architectures" / "summary.md").read_text()
    assert "VGG16 weights: a random initialisation (stand-in" in summary and "alexnet weights" in summary


def test_each_wrong_answer_loses_exactly_its_tests(demo):
    _, out = demo
    questions = pd.read_csv(out / "questions.csv")
    assert {"student", "question", "score", "max_score"} <= set(questions.columns)
    roster = submissions.students()
    cells = {}
    for path in (out / "results").rglob("*.json"):
        result = json.loads(path.read_text())
        for cell in result["cells"]:
            if cell["kind"] == "auto":
                cells[(result["student"], cell["grade_id"])] = (cell["score"], cell["max_score"], cell["message"])
    for (student, grade_id), (score, top, message) in cells.items():
        lost = roster[student]["lost"]
        if lost == "all" or grade_id in lost:
            assert score == 0 and message, (student, grade_id)
        else:
            assert score == top, (student, grade_id, message)


def test_feedback_messages_are_actionable_and_hide_test_source(demo):
    _, out = demo
    result = json.loads((out / "results" / "wrong_output_layer" / "03-keras-mnist.json").read_text())
    messages = {c["grade_id"]: c["message"] for c in result["cells"]}
    assert "expected output shape (None, 10), got (None, 1)" in messages["q6_model_tests"]
    chance = json.loads((out / "results" / "chance_accuracy" / "05-pytorch-mnist.json").read_text())
    assert "chance" in {c["grade_id"]: c["message"] for c in chance["cells"]}["q8_accuracy_tests"]
    app = json.loads((out / "results" / "fragile_app" / "07-chest-xray.json").read_text())
    assert "not an image" in {c["grade_id"]: c["message"] for c in app["cells"]}["q10_app_tests"]
    for html in (out / "feedback").rglob("*.html"):
        text = html.read_text()
        assert "hidden=True" not in text and "BEGIN HIDDEN TESTS" not in text, html
    graded = json.loads((out / "results" / "pytorch_textbook" / "05-pytorch-mnist.json").read_text())
    messages = {c["grade_id"]: c["message"] for c in graded["cells"]}
    assert messages["q8_accuracy_tests"] == ""          # passed
    feedback = (out / "feedback" / "pytorch_textbook" / "05-pytorch-mnist.html").read_text()
    assert "graded your model `net` (PyTorch Net" in feedback
    assert "through the transform of your test loader `testloader`" in feedback
    twins = json.loads((out / "results" / "untrained_twins" / "03-keras-mnist.json").read_text())
    assert "`model_a`, `model_b`" in {c["grade_id"]: c["message"] for c in twins["cells"]}["q6_model_tests"]


def test_self_reported_accuracy_is_reviewed_not_scored(demo):
    _, out = demo
    flagged = pd.read_csv(out / "flagged_for_review.csv")
    roster = submissions.students()
    for student, spec in roster.items():
        rows = flagged[flagged["student"] == student]["where"].tolist()
        for grade_id in spec.get("review", []):
            assert any(row.startswith(grade_id) and "reported" in row for row in rows), (student, rows)
    assert not any("reported" in row for row in flagged[flagged["student"] == "reference"]["where"])


def test_reports_say_which_data_and_profile(demo):
    _, out = demo
    summary = (out / "summary.md").read_text()
    assert "smoke profile" in summary and "stand-in for CIFAR-10" in summary
    assert "MNIST 5k subset (real digits" in summary
    gs = json.loads((out / "gradescope" / "reference" / "results.json").read_text())
    assert gs["score"] == 28 and all("max_score" in t for t in gs["tests"])
    assert (out / "grade_distribution.png").stat().st_size > 1000


def _messages(out, assignment, student, notebook):
    result = json.loads((out.parent / assignment / "results" / student / f"{notebook}.json").read_text())
    return {c["grade_id"]: c["message"] for c in result["cells"]}


def test_pooling_lenet_alexnet_table(demo):
    _, out = demo
    folder = out.parent / "pooling_lenet_alexnet"
    grades = pd.read_csv(folder / "grades.csv").set_index("student")
    assert grades["auto_score"].to_dict() == EXPECTED_POOLING
    roster = submissions.students("pooling_lenet_alexnet")
    for student, spec in roster.items():
        if not spec.get("status"):
            assert set(grades.loc[student, "status"].split("; ")) <= {"ok", *(f"{nb}: missing" for nb in (
                "01-pooling-padding", "02-lenet5", "03-alexnet") if spec["notebooks"] and nb not in spec["notebooks"])}
    assert (grades.loc[["reference", "blank"], "status"] == "ok").all()
    _each_lost_exactly_its_cells(folder, roster)
    messages = _messages(out, "pooling_lenet_alexnet", "min_pool_returns_max", "01-pooling-padding")
    assert "returns the maximum of each window" in messages["q2_minpool_tests"]
    messages = _messages(out, "pooling_lenet_alexnet", "pool_zero_padding", "01-pooling-padding")
    assert "counted as zeros" in messages["q2_maxpool_tests"]
    messages = _messages(out, "pooling_lenet_alexnet", "same_off_by_one", "01-pooling-padding")
    assert "output_size(7, 3, 2, 'same') returned 3, expected 4" in messages["q4_sizes_tests"]
    messages = _messages(out, "pooling_lenet_alexnet", "lenet_wrong_filters", "02-lenet5")
    assert "found conv 32 -> conv 64" in messages["q8_model_tests"] and "conv 28x28x32" in messages["q8_shapes_tests"]
    feedback = (folder / "feedback" / "lenet_pytorch_valid28" / "02-lenet5.html").read_text()
    assert "44,426 parameters): LeNet-5, 28x28 input without padding" in feedback and "C1 24x24x6, S2 12x12x6, C3 8x8x16, S4 4x4x16" in feedback
    messages = _messages(out, "pooling_lenet_alexnet", "alexnet_no_eval", "03-alexnet")
    assert "was evaluated in training mode" in messages["q12_eval_tests"] and "model.eval()" in messages["q12_eval_tests"]
    messages = _messages(out, "pooling_lenet_alexnet", "alexnet_stuck_at_chance", "03-alexnet")
    assert "chance level" in messages["q12_accuracy_tests"] and "ln(10)" in messages["q12_accuracy_tests"]
    messages = _messages(out, "pooling_lenet_alexnet", "alexnet_no_dropout", "03-alexnet")
    assert "no dropout" in messages["q12_parts_tests"]
    upscaled = json.loads((folder / "results" / "alexnet_upscaled_224" / "03-alexnet.json").read_text())
    assert upscaled["status"] == "timeout" and "stopped after 60 s (time limit of one cell)" in upscaled["reason"]
    assert "03-alexnet: timeout" in grades.loc["alexnet_upscaled_224", "status"]
    messages = {c["grade_id"]: c["message"] for c in upscaled["cells"]}
    assert "stopped by the time limit" in messages["q12_accuracy_tests"]
    feedback = (folder / "feedback" / "alexnet_upscaled_224" / "03-alexnet.html").read_text()
    assert "57,044,810 parameters): AlexNet, the classic layout" in feedback       # what ran keeps its points
    feedback = (folder / "feedback" / "reference" / "03-alexnet.html").read_text()
    assert "the small-input variant" in feedback and "dropout (2 layer(s), p=0.5)" in feedback
    feedback = (folder / "feedback" / "alexnet_keras_small" / "03-alexnet.html").read_text()
    assert "(Keras Sequential, 261,450 parameters): AlexNet, the small-input variant" in feedback
    assert "Keras' evaluate and predict always run dropout in inference mode" in feedback
    feedback = (folder / "feedback" / "reference" / "02-lenet5.html").read_text()
    assert "61,706 parameters): LeNet-5, the classic 32x32 layout" in feedback and "C1 28x28x6, S2 14x14x6, C3 10x10x16, S4 5x5x16" in feedback


def test_a_roster_entry_can_set_a_shorter_cell_timeout_for_its_student(tmp_path):
    from autograder.demo import _by_cell_timeout
    folder = tmp_path / "submissions"
    for student in ("a", "b", "c"):
        (folder / student).mkdir(parents=True)
    batches = _by_cell_timeout({"a": {}, "b": {"cell_timeout": 60}, "c": {}}, folder)
    assert [(limit, sorted(p.name for p in path.iterdir())) for limit, path in batches] == [(None, ["a", "c"]), (60, ["b"])]
    assert submissions.students("pooling_lenet_alexnet")["alexnet_upscaled_224"]["cell_timeout"] == 60
