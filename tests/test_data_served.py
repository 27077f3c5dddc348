"""What the smoke profile serves: real data where it exists, stand-ins named as such."""
import numpy as np
import pytest

from autograder.data import served, sources


@pytest.fixture(autouse=True)
def smoke(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOGRADER_PROFILE", "smoke")
    monkeypatch.setenv("AUTOGRADER_SERVED_LOG", str(tmp_path / "served.jsonl"))


def test_mnist_is_the_real_5k_digits_split_and_stratified():
    (x, y), (xt, yt) = served.mnist()
    assert x.shape == (4000, 28, 28) and xt.shape == (1000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(yt).tolist() == [100] * 10
    assert np.bincount(y).sum() == 4000
    x5k, _ = sources.mnist_5k()
    assert {tuple(a.ravel()[:50]) for a in xt[:20]} <= {tuple(a.ravel()[:50]) for a in x5k}
    # real digits: dark background, ink strokes; not noise
    assert 20 < x.mean() < 50 and (x == 0).mean() > 0.7


def test_train_and_test_do_not_overlap():
    (x, _), (xt, _) = served.mnist()
    train = {a.tobytes() for a in x}
    assert not any(a.tobytes() in train for a in xt)


def test_cifar_stand_in_is_cifar_shaped_and_named(tmp_path):
    (x, y), (xt, yt) = served.cifar10()
    assert x.shape == (10000, 32, 32, 3) and y.shape == (10000, 1) and xt.shape == (2000, 32, 32, 3)
    assert (x[..., 0] == x[..., 2]).all()          # grayscale replicated: it says so
    assert "stand-in for CIFAR-10" in served.describe("cifar10")
    assert "stand-in for CIFAR-10" in (tmp_path / "served.jsonl").read_text()


def test_image_folders_have_train_and_held_out_test():
    for name, classes in (("custom_images", {"bag", "sneaker", "trouser", "tshirt"}),
                          ("chest_xray", {"NORMAL", "PNEUMONIA"})):
        root = served.image_folder(name)
        assert {d.name for d in (root / "train").iterdir() if d.is_dir()} == classes
        assert {d.name for d in (root / "test").iterdir() if d.is_dir()} == classes
        train = {p.read_bytes() for p in (root / "train").rglob("*.png")}
        assert not any(p.read_bytes() in train for p in (root / "test").rglob("*.png"))
    assert "stand-in" in served.describe("chest_xray") and "stand-in" in served.describe("custom_images")


def test_full_profile_needs_the_real_files(monkeypatch, tmp_path):
    from autograder.data.fetch import DataMissingError
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("AUTOGRADER_OFFLINE", "1")
    with pytest.raises(DataMissingError, match="python -m autograder fetch mnist"):
        served.mnist("full")


def test_unknown_folder_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown image folder"):
        served.image_folder("flowers")
