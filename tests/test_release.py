"""release/ and solutions/ are generated from source/ and stay in sync; the release leaks nothing."""
import nbformat

from autograder import release


def test_release_and_solutions_are_in_sync_with_source(repo):
    assert release.out_of_sync(repo) == []


def test_release_contains_no_solution_or_hidden_test(repo):
    assert release.leaks(repo / "release") == []
    for path in (repo / "release").rglob("*.ipynb"):
        text = path.read_text()
        assert "heldout.dataset_accuracy" not in text and "heldout.folder_accuracy" not in text, path


def test_leak_detector_catches_a_leak(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS")]
    nbformat.write(nb, tmp_path / "leaky.ipynb")
    assert release.leaks(tmp_path) == ["leaky.ipynb cell 0: BEGIN HIDDEN TESTS"]


def test_every_question_of_the_sheet_is_in_source(repo):
    text = "".join(p.read_text() for p in (repo / "source" / "cnn_foundations").glob("*.ipynb"))
    for q in range(1, 11):
        assert f"Q{q}." in text, f"cnn_foundations Q{q} is missing from source/"


def test_out_of_sync_is_detected(repo, tmp_path):
    import shutil
    for kind in ("source", "release", "solutions"):
        shutil.copytree(repo / kind, tmp_path / kind)
    nb_path = tmp_path / "source" / "cnn_foundations" / "01-theory.ipynb"
    nb = nbformat.read(nb_path, 4)
    nb.cells[0].source += "\nA changed sentence."
    nbformat.write(nb, nb_path)
    assert release.out_of_sync(tmp_path) == ["release/cnn_foundations/01-theory.ipynb differs from source/cnn_foundations/01-theory.ipynb",
                                             "solutions/cnn_foundations/01-theory.ipynb differs from source/cnn_foundations/01-theory.ipynb"]
