"""What the smoke profile serves: real data where it exists, stand-ins named as such."""
import numpy as np
import pytest

from autograder.data import served, sources, standins


@pytest.fixture(autouse=True)
def smoke(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOGRADER_PROFILE", "smoke")
    monkeypatch.setenv("AUTOGRADER_SERVED_LOG", str(tmp_path / "served.jsonl"))


def test_mnist_is_the_real_5k_digits_split_and_stratified():
    (x, y), (xt, yt) = served.mnist()
    assert x.shape == (4000, 28, 28) and xt.shape == (500, 28, 28) and x.dtype == np.uint8
    assert np.bincount(yt).tolist() == [50] * 10
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


def test_write_mnist_idx_is_what_torchvision_reads(tmp_path):
    import torchvision   # conftest imported torch/torchvision before anything imports keras

    served.write_mnist_idx(tmp_path / "data")
    train = torchvision.datasets.MNIST(tmp_path / "data", train=True, download=False)
    test = torchvision.datasets.MNIST(tmp_path / "data", train=False, download=False)
    (x, y), (xt, yt) = served.mnist()
    assert len(train) == 4000 and len(test) == 500
    assert (train.data.numpy() == x).all() and (train.targets.numpy() == y).all()
    assert (test.data.numpy() == xt).all() and (test.targets.numpy() == yt).all()


def test_served_log_lines_name_dataset_description_and_profile(tmp_path):
    import json
    served.mnist()
    served.image_folder("chest_xray")
    lines = [json.loads(l) for l in (tmp_path / "served.jsonl").read_text().splitlines()]
    assert [l["dataset"] for l in lines] == ["mnist", "chest_xray"]
    assert all(l["profile"] == "smoke" for l in lines)
    assert "real digits" in lines[0]["description"] and "stand-in" in lines[1]["description"]


@pytest.mark.parametrize("make,classes", [(standins.xray_folder, {"NORMAL", "PNEUMONIA"})])
def test_generated_folders_are_deterministic_written_once_and_regenerated_on_change(tmp_path, make, classes):
    a = make(tmp_path / "a", n_per_class=8, size=32)
    b = make(tmp_path / "b", n_per_class=8, size=32)
    for split, n in (("train", 8), ("test", 2)):
        assert {d.name for d in (a / split).iterdir()} == classes
        assert all(len(list((a / split / c).glob("*.png"))) == n for c in classes)
    files = sorted(p.relative_to(a) for p in a.rglob("*.png"))
    assert files == sorted(p.relative_to(b) for p in b.rglob("*.png"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)      # seeded
    stamp = {f: (a / f).stat().st_mtime_ns for f in files}
    make(tmp_path / "a", n_per_class=8, size=32)
    assert stamp == {f: (a / f).stat().st_mtime_ns for f in files}                # idempotent
    make(tmp_path / "a", n_per_class=4, size=32)
    assert all(len(list((a / "train" / c).glob("*.png"))) == 4 for c in classes)  # parameters changed


def test_xray_classes_differ_in_lung_opacity(tmp_path):
    from PIL import Image
    root = standins.xray_folder(tmp_path, n_per_class=20, size=64)
    lungs = {c: np.mean([np.asarray(Image.open(p), float)[20:44, 10:54].mean()
                         for p in (root / "train" / c).glob("*.png")]) for c in ("NORMAL", "PNEUMONIA")}
    assert lungs["PNEUMONIA"] > lungs["NORMAL"] + 3


def test_cifar_stand_in_is_padded_fashion_mnist():
    (x, y), (xt, yt) = standins.cifar_shaped_fashion(50, 10)
    assert x.dtype == np.uint8 and y.dtype == np.uint8 and y.shape == (50, 1) and xt.shape == (10, 32, 32, 3)
    assert (x[:, :2] == 0).all() and (x[:, :, -2:] == 0).all() and x.max() > 200
    assert "stand-in for CIFAR-10" in standins.CIFAR_STANDIN


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "grace_hopper"])
def test_real_photos(name):
    image = sources.photo(name)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) >= 200
    assert image.std() > 20


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_heldout_is_in_no_split_a_student_can_load(name):
    (train, test), (xh, yh) = served.with_heldout(name, "smoke")
    loadable = {a.tobytes() for a in train[0]} | {a.tobytes() for a in test[0]}
    assert len(xh) >= 500 and len(xh) == len(yh)
    assert not any(a.tobytes() in loadable for a in xh)


def test_staging_keeps_labels_out_of_the_student_folder(tmp_path):
    import json
    from autograder.data import staging
    staged = staging.stage("smoke", tmp_path / "stage")
    student = {p.relative_to(staged.student).as_posix() for p in staged.student.rglob("*") if p.is_file()}
    assert "heldout/mnist.npy" in student and "mnist.npz" in student
    assert not any(p.startswith(("private", "custom_images/test", "chest_xray/test")) for p in student)
    with np.load(staged.student / "mnist.npz") as f:
        assert set(f.files) == {"x_train", "y_train", "x_test", "y_test", "description"}
    held = np.load(staged.student / "heldout" / "mnist.npy")
    labels = staging.heldout_labels(staged.private, "mnist")
    assert held.shape == (500, 28, 28) and labels.shape == (500,)
    table = json.loads((staged.private / "chest_xray.json").read_text())
    files = sorted(p.name for p in (staged.student / "heldout" / "chest_xray").iterdir())
    assert sorted(table["labels"]) == files and table["classes"] == ["NORMAL", "PNEUMONIA"]
    assert oct(staged.private.stat().st_mode & 0o777) == "0o700"
