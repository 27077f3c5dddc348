"""The full profile's loaders, run on small archives made here in the official formats.

The official files cannot be downloaded on this machine; these tests put small files with the same
layout (mnist.npz, the CIFAR-10 python tarball, flower_photos.tgz, the Kermany ChestXRay2017.zip)
into a cache, pin them, and check that the real loading code reads them offline.
"""
import hashlib
import io
import pickle
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from autograder.data import cache, manifest, served


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _install(monkeypatch, name: str, filename: str, data: bytes) -> None:
    """Put ``data`` in the cache as registry entry ``name`` with its real hash pinned."""
    (cache.cache_dir() / filename).write_bytes(data)
    old = manifest.REGISTRY[name]
    monkeypatch.setitem(manifest.REGISTRY, name, manifest.Entry(
        name, old.url, "sha256:" + hashlib.sha256(data).hexdigest(), old.kind, filename, old.licence))


@pytest.fixture(autouse=True)
def full_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("AUTOGRADER_OFFLINE", "1")
    monkeypatch.setenv("AUTOGRADER_PROFILE", "full")
    cache.cache_dir().mkdir(parents=True, exist_ok=True)


def test_mnist_npz(monkeypatch):
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buf, x_train=rng.integers(0, 255, (6, 28, 28), dtype=np.uint8), y_train=np.arange(6, dtype=np.uint8),
             x_test=rng.integers(0, 255, (2, 28, 28), dtype=np.uint8), y_test=np.arange(2, dtype=np.uint8))
    _install(monkeypatch, "mnist", "mnist.npz", buf.getvalue())
    (x, y), (xt, yt) = served.mnist()
    assert x.shape == (6, 28, 28) and yt.tolist() == [0, 1]
    assert "official" in served.describe("mnist")


def test_cifar10_python_tarball(monkeypatch):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, n, label in (("data_batch_1", 3, 1), ("data_batch_2", 2, 2), ("test_batch", 2, 7)):
            data = np.zeros((n, 3072), np.uint8)
            data[:, :1024] = 200          # red plane first, as CIFAR stores it (N, 3, 32, 32) flattened
            payload = pickle.dumps({b"data": data, b"labels": [label] * n})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    _install(monkeypatch, "cifar10", "cifar-10-python.tar.gz", buf.getvalue())
    (x, y), (xt, yt) = served.cifar10()
    assert x.shape == (5, 32, 32, 3) and y.shape == (5, 1) and xt.shape == (2, 32, 32, 3)
    assert (x[..., 0] == 200).all() and (x[..., 1] == 0).all()      # channels last, red first
    assert y.ravel().tolist() == [1, 1, 1, 2, 2] and set(yt.ravel()) == {7}


def test_flower_photos_are_split_into_train_and_held_out_test(monkeypatch):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for cls in ("daisy", "roses"):
            for i in range(10):
                payload = _png(10 * i)
                info = tarfile.TarInfo(f"flower_photos/{cls}/{i}.png")
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    _install(monkeypatch, "flowers", "flower_photos.tgz", buf.getvalue())
    root = served.image_folder("custom_images")
    train = sorted(p.relative_to(root / "train") for p in (root / "train").rglob("*.png"))
    test = sorted(p.relative_to(root / "test") for p in (root / "test").rglob("*.png"))
    assert len(train) == 16 and len(test) == 4 and not set(train) & set(test)
    assert {p.parts[0] for p in test} == {"daisy", "roses"}
    assert served.image_folder("custom_images") == root      # extracted once


def test_chest_xray_zip_in_the_kermany_layout(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for split in ("train", "test"):
            for cls in ("NORMAL", "PNEUMONIA"):
                for i in range(2):
                    zf.writestr(f"chest_xray/{split}/{cls}/{cls.lower()}{i}.png", _png(100))
    _install(monkeypatch, "chest_xray", "ChestXRay2017.zip", buf.getvalue())
    root = served.image_folder("chest_xray")
    assert {d.name for d in (root / "train").iterdir()} == {"NORMAL", "PNEUMONIA"}
    assert len(list((root / "test").rglob("*.png"))) == 4


def test_covid19_radiography_zip_becomes_the_three_triage_classes(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for folder, n in (("COVID", 5), ("Normal", 10), ("Viral Pneumonia", 5), ("Lung_Opacity", 5)):
            for i in range(n):
                zf.writestr(f"COVID-19_Radiography_Dataset/{folder}/images/{folder}-{i}.png", _png(i))
            zf.writestr(f"COVID-19_Radiography_Dataset/{folder}/masks/{folder}-0.png", _png(0))
        zf.writestr("COVID-19_Radiography_Dataset/COVID.metadata.xlsx", b"")
    _install(monkeypatch, "xray_triage", "covid19-radiography-database.zip", buf.getvalue())
    root = served.image_folder("xray_triage")
    count = lambda split, cls: len(list((root / split / cls).glob("*.png")))
    assert {d.name for d in (root / "train").iterdir()} == {"COVID19", "NORMAL", "PNEUMONIA"}   # no Lung_Opacity
    assert (count("train", "COVID19"), count("test", "COVID19")) == (4, 1)
    assert (count("train", "NORMAL"), count("test", "NORMAL")) == (8, 2)
    assert "masks" not in {p.parent.name for p in root.rglob("*.png")}


def test_a_triage_zip_in_another_layout_is_named_with_the_problem(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("covid/img0.png", _png(0))
    _install(monkeypatch, "xray_triage", "covid19-radiography-database.zip", buf.getvalue())
    with pytest.raises(FileNotFoundError, match="no COVID/images folder"):
        served.image_folder("xray_triage")


def test_a_missing_official_file_stops_with_the_fetch_hint():
    from autograder.data.fetch import DataMissingError
    with pytest.raises(DataMissingError, match="python -m autograder fetch cifar10"):
        served.cifar10()


def _idx_gz(array: np.ndarray, dtype_code: int) -> bytes:
    import gzip
    header = bytes([0, 0, dtype_code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes())


def test_full_heldout_sets_come_from_outside_the_official_downloads(monkeypatch):
    """QMNIST's digits after the first 10,000 (MNIST's own test set) and CIFAR-10.1 v6."""
    for name in ("mnist", "qmnist_test_images", "qmnist_test_labels", "cifar10_1_v6_data", "cifar10_1_v6_labels"):
        assert manifest.REGISTRY[name].known_hash, name          # pinned upstream, fetchable by name
    buf = io.BytesIO()
    np.savez(buf, x_train=np.zeros((4, 28, 28), np.uint8), y_train=np.zeros(4, np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.uint8))
    _install(monkeypatch, "mnist", "mnist.npz", buf.getvalue())
    images = np.zeros((10003, 28, 28), np.uint8)
    images[10000:] = np.arange(1, 4, dtype=np.uint8)[:, None, None]
    labels = np.zeros((10003, 8), ">i4")
    labels[10000:, 0] = [7, 8, 9]
    _install(monkeypatch, "qmnist_test_images", "qmnist-test-images-idx3-ubyte.gz", _idx_gz(images, 0x08))
    _install(monkeypatch, "qmnist_test_labels", "qmnist-test-labels-idx2-int.gz", _idx_gz(labels, 0x0C))
    (train, test), (xh, yh) = served.with_heldout("mnist", "full")
    assert train[0].shape == (4, 28, 28) and xh.shape == (3, 28, 28)
    assert yh.tolist() == [7, 8, 9] and xh[:, 0, 0].tolist() == [1, 2, 3]   # the extra digits, not MNIST's

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("data_batch_1", "test_batch"):
            payload = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    _install(monkeypatch, "cifar10", "cifar-10-python.tar.gz", buf.getvalue())
    for name, array in (("cifar10_1_v6_data", np.full((5, 32, 32, 3), 9, np.uint8)),
                        ("cifar10_1_v6_labels", np.arange(5, dtype=np.int64))):
        npy = io.BytesIO()
        np.save(npy, array)
        _install(monkeypatch, name, manifest.REGISTRY[name].filename, npy.getvalue())
    (train, test), (xh, yh) = served.with_heldout("cifar10", "full")
    assert xh.shape == (5, 32, 32, 3) and (xh == 9).all() and yh.shape == (5, 1) and yh.ravel().tolist() == [0, 1, 2, 3, 4]
