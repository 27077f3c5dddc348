"""Split a profile's data into what the student's sandbox may see and what only the judge holds.

``stage(profile, root)`` writes, once per content:

- ``root/student/``: ``mnist.npz`` and ``cifar10.npz`` (the train and test splits the idiomatic
  loaders serve, with a description), ``<folder>/train/<class>/*.png`` for the image-folder
  questions, and ``heldout/``: the held-out images *without labels* (``mnist.npy``,
  ``cifar10.npy``, ``<folder>/NNNN.png`` in shuffled order);
- ``root/private/``: the held-out labels (``mnist.npy``, ``cifar10.npy``, ``<folder>.json``).

The held-out images are in no split the student can load in that profile, so training on the
test split or looking labels up gains nothing.
"""
from __future__ import annotations

import hashlib
import secrets
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import served

VERSION = 4
ARRAYS = ("mnist", "cifar10")


@dataclass(frozen=True)
class Staged:
    student: Path     # bound read-only into the sandbox
    private: Path     # the judge's: never bound into a sandbox
    descriptions: dict[str, str]


def _save_npz(path: Path, description: str, split: tuple) -> None:
    (x, y), (xt, yt) = split
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt, description=np.array(description))


def _stage_folder(name: str, profile: str, student: Path, private: Path) -> str:
    src = served.image_folder(name, profile)
    shutil.copytree(src / "train", student / name / "train")
    description = served.describe(name, profile)
    (student / name / "DESCRIPTION").write_text(description + "\n")
    classes = sorted(d.name for d in (src / "test").iterdir() if d.is_dir())
    files = [(path, label) for label, cls in enumerate(classes)
             for path in sorted((src / "test" / cls).iterdir()) if path.suffix.lower() in {".png", ".jpg", ".jpeg"}]
    # a secret order: with a fixed one, the labels of the held-out files would follow from this code and
    # the per-class counts
    order = np.random.default_rng(secrets.randbits(128)).permutation(len(files))
    out = student / "heldout" / name
    out.mkdir(parents=True)
    labels = {}
    for rank, i in enumerate(order):
        path, label = files[i]
        target = out / f"{rank:05d}.png"
        if path.suffix.lower() == ".png":
            shutil.copyfile(path, target)
        else:
            from PIL import Image
            with Image.open(path) as im:
                im.save(target)
        labels[target.name] = label
    counts = {cls: sum(1 for p in (src / "train" / cls).iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
              for cls in classes}
    (private / f"{name}.json").write_text(json.dumps({"classes": classes, "labels": labels, "train_counts": counts}))
    return description


def stage(profile: str, root: Path, folders: tuple[str, ...] | None = None) -> Staged:
    """Write (or reuse) the student-visible and private data of ``profile`` under ``root``: the arrays and
    the image ``folders`` an assignment uses (default: all), so grading one needs only its own downloads."""
    root = Path(root)
    folders = tuple(sorted(served.FOLDERS if folders is None else folders))
    unknown = set(folders) - set(served.FOLDERS)
    if unknown:
        raise KeyError(f"unknown image folder(s) {sorted(unknown)}; choose from {served.FOLDERS}")
    key = hashlib.sha256(f"{VERSION}|{profile}|{','.join(folders)}".encode()).hexdigest()[:16]
    marker = root / ".staged"
    student, private = root / "student", root / "private"
    if marker.is_file() and json.loads(marker.read_text()).get("key") == key:
        return Staged(student, private, json.loads(marker.read_text())["descriptions"])
    shutil.rmtree(root, ignore_errors=True)
    (student / "heldout").mkdir(parents=True)
    private.mkdir(parents=True)
    descriptions = {}
    for name in ARRAYS:
        (train, test), (xh, yh) = served.with_heldout(name, profile)
        descriptions[name] = served.describe(name, profile)
        _save_npz(student / f"{name}.npz", descriptions[name], (train, test))
        np.save(student / "heldout" / f"{name}.npy", xh)
        np.save(private / f"{name}.npy", np.asarray(yh).reshape(-1).astype("int64"))
    for name in folders:
        descriptions[name] = _stage_folder(name, profile, student, private)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    private.chmod(0o700)
    marker.write_text(json.dumps({"key": key, "descriptions": descriptions}))
    return Staged(student, private, descriptions)


def heldout_labels(private: Path, name: str) -> np.ndarray:
    """Held-out labels of an array dataset, or of a folder in the order of its sorted file names."""
    if (private / f"{name}.npy").is_file():
        return np.load(private / f"{name}.npy", allow_pickle=False)
    table = json.loads((private / f"{name}.json").read_text())
    return np.asarray([table["labels"][f] for f in sorted(table["labels"])], dtype="int64")


def heldout_classes(private: Path, name: str) -> list[str]:
    return json.loads((private / f"{name}.json").read_text())["classes"]


def train_counts(private: Path, name: str) -> dict[str, int]:
    """How many training images each class of folder ``name`` has (what class weights are computed from)."""
    return json.loads((private / f"{name}.json").read_text())["train_counts"]
