"""The profile table: complete, readable, and calibrated."""
import pandas as pd
import pytest

from autograder import calibrate, profiles

QUESTIONS = ["cnn_foundations.q6", "cnn_foundations.q7", "cnn_foundations.q8",
             "cnn_foundations.q9", "cnn_foundations.q10", "cnn_architectures.q6",
             "cnn_architectures.q7", "cnn_architectures.q9", "cnn_architectures.q10",
             "pooling_lenet_alexnet.q8", "pooling_lenet_alexnet.q12"]


@pytest.mark.parametrize("profile", ["smoke", "full"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_training_question_has_a_budget_and_threshold(profile, question):
    row = profiles.settings(question, profile)
    assert row["epochs"] >= 1 and row["batch_size"] >= 1
    assert 0.5 < row["min_accuracy"] < 1.0


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_full_threshold_says_where_it_comes_from(question):
    source = profiles.settings(question, "full")["threshold_source"]
    assert source.startswith(("estimated: ", "calibrated: ")) and len(source) > 30


def test_full_thresholds_are_what_a_good_solution_reaches():
    assert profiles.settings("cnn_foundations.q6", "full")["min_accuracy"] >= 0.98
    assert profiles.settings("cnn_foundations.q8", "full")["min_accuracy"] >= 0.98


def test_active_profile_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(profiles.ENV, raising=False)
    assert profiles.active() == "full"
    monkeypatch.setenv(profiles.ENV, "smoke")
    assert profiles.active() == "smoke"
    assert profiles.budget("cnn_foundations.q6").epochs == profiles.settings("cnn_foundations.q6")["epochs"]
    monkeypatch.setenv(profiles.ENV, "huge")
    with pytest.raises(profiles.ProfileError, match="not a profile"):
        profiles.active()
    with pytest.raises(profiles.ProfileError, match="no row"):
        profiles.settings("cnn_foundations.q99", "smoke")


def test_smoke_thresholds_are_calibrated_on_the_reference_over_three_seeds():
    frame = pd.read_csv(calibrate.csv_path("smoke"))
    table = calibrate.summary(frame).set_index(["assignment", "question"])
    for question in QUESTIONS:
        a, q = question.split(".")
        assert (a, q) in table.index, f"{question} missing from the calibration; run `./kit calibrate --assignment {a}`"
        row = table.loc[(a, q)]
        threshold = profiles.settings(question, "smoke")["min_accuracy"]
        assert row["seeds"] >= 3
        assert threshold <= row["min"] - calibrate.MARGIN, f"{q}: threshold {threshold} too close to {row['min']}"
        assert threshold >= 0.5, f"{q}: a threshold of {threshold} would let a broken model pass"


def test_calibration_grades_exactly_the_notebooks_with_a_threshold(repo):
    from autograder import calibrate
    picked = sorted(nb.stem for nb in (repo / "release" / "cnn_foundations").glob("*.ipynb")
                    if calibrate.measures_heldout(nb))
    assert picked == ["03-keras-mnist", "04-keras-cifar10", "05-pytorch-mnist", "06-image-folder", "07-chest-xray"]
    picked = sorted(nb.stem for nb in (repo / "release" / "cnn_architectures").glob("*.ipynb")
                    if calibrate.measures_heldout(nb))
    assert picked == ["02-lenet5", "03-vgg16-transfer", "05-inception-cifar10", "06-xray-triage"]
    only_q7 = [nb.stem for nb in sorted((repo / "release" / "cnn_architectures").glob("*.ipynb"))
               if calibrate.measures_heldout(nb, ["q7"])]
    assert only_q7 == ["03-vgg16-transfer"]                 # --question q7 grades only that notebook
    picked = sorted(nb.stem for nb in (repo / "release" / "pooling_lenet_alexnet").glob("*.ipynb")
                    if calibrate.measures_heldout(nb))
    assert picked == ["02-lenet5", "03-alexnet"]


def test_the_per_class_recall_floor_is_calibrated_too():
    table = calibrate.summary(pd.read_csv(calibrate.csv_path("smoke"))).set_index(["assignment", "question"])
    row = table.loc[("cnn_architectures", "q10.min_class_recall")]
    floor = profiles.settings("cnn_architectures.q10", "smoke")["min_class_recall"]
    assert row["seeds"] >= 3 and floor <= row["min"] - calibrate.MARGIN
    assert floor >= 1 / 3 + 0.1, "a floor at chance would let a model that ignores a class pass"
