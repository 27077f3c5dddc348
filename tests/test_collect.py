"""Finding and identifying submitted notebooks, without running them."""
import zipfile

import nbformat
import pytest

from autograder.grading import collect


def _nb(path, *ids):
    nb = nbformat.v4.new_notebook()
    for grade_id in ids:
        cell = nbformat.v4.new_code_cell("pass")
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": True, "locked": False,
                                     "schema_version": 3}
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def release(tmp_path):
    _nb(tmp_path / "release" / "01-a.ipynb", "a1", "a2")
    _nb(tmp_path / "release" / "02-b.ipynb", "b1")
    return tmp_path / "release"


def test_class_zip_with_a_top_folder_and_renamed_notebooks(tmp_path, release):
    _nb(tmp_path / "src" / "ann" / "01-a.ipynb", "a1", "a2")
    _nb(tmp_path / "src" / "ann" / "b (copy).ipynb", "b1")
    _nb(tmp_path / "src" / "bob" / "hw" / "01-a.ipynb", "a1")
    with zipfile.ZipFile(tmp_path / "class.zip", "w") as zf:
        for path in (tmp_path / "src").rglob("*.ipynb"):
            zf.write(path, "Course download/" + str(path.relative_to(tmp_path / "src")))
    subs = {s.student: s for s in collect.collect(tmp_path / "class.zip", "hw", release, tmp_path / "scratch")}
    assert set(subs) == {"ann", "bob"}
    assert set(subs["ann"].notebooks) == {"01-a", "02-b"} and not subs["ann"].problems
    assert subs["bob"].problems == {"02-b": "02-b.ipynb was not submitted"}
    assert any("graded as 02-b.ipynb" in note for note in subs["ann"].notes)


def test_zip_slip_and_broken_zips_are_refused(tmp_path, release):
    folder = tmp_path / "subs"
    folder.mkdir()
    with zipfile.ZipFile(folder / "eve.zip", "w") as zf:
        zf.writestr("../../escape.ipynb", "{}")
    (folder / "mal.zip").write_bytes(b"not a zip")
    subs = {s.student: s for s in collect.collect(folder, "hw", release, tmp_path / "scratch")}
    assert "unsafe path" in subs["eve"].problems["01-a"]
    assert "could not be unpacked" in subs["mal"].problems["01-a"]
    assert not (tmp_path / "escape.ipynb").exists()


def test_a_zip_that_unpacks_past_the_cap_is_refused_before_it_is_written(tmp_path, release, monkeypatch):
    from autograder import archives
    monkeypatch.setattr(archives, "MAX_UNPACKED_MB", 1)
    folder = tmp_path / "subs"
    folder.mkdir()
    _nb(tmp_path / "src" / "01-a.ipynb", "a1", "a2")
    with zipfile.ZipFile(folder / "zed.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(tmp_path / "src" / "01-a.ipynb", "01-a.ipynb")
        zf.writestr("weights.bin", b"\0" * (2 * 2**20))            # 2 MB of zeros: a few KB zipped
    _nb(folder / "amy" / "01-a.ipynb", "a1", "a2")
    subs = {s.student: s for s in collect.collect(folder, "hw", release, tmp_path / "scratch")}
    assert "zed.zip" in subs["zed"].problems["01-a"] and "more than 1 MB" in subs["zed"].problems["01-a"]
    assert not list((tmp_path / "scratch").rglob("weights.bin"))
    assert "01-a" in subs["amy"].notebooks                          # the rest of the class is still read
