"""Accuracy on data the student did not train on, against the active profile's threshold."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import profiles

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}


def _threshold(question: str) -> float:
    return float(profiles.settings(question)["min_accuracy"])


def _report(value: float, question: str) -> float:
    log = os.environ.get("AUTOGRADER_METRICS_LOG")
    if log:   # the runner collects these (calibration, reports)
        with open(log, "a") as fh:
            fh.write(json.dumps({"question": question, "metric": "heldout_accuracy", "value": float(value),
                                 "threshold": _threshold(question), "profile": profiles.active()}) + "\n")
    print(f"held-out accuracy {value:.3f} (required: {_threshold(question):.2f} in the "
          f"'{profiles.active()}' profile)")
    return value


def _checked(model: Any, x: np.ndarray, y: np.ndarray, question: str) -> float:
    from .evaluate import accuracy, accuracy_reaches, labels_of

    labels = labels_of(y)
    acc = _report(accuracy(model, x, labels), question)
    return accuracy_reaches(acc, labels, _threshold(question), what="held-out accuracy")


def dataset_accuracy(model: Any, dataset: str, question: str) -> float:
    """Accuracy of ``model`` on the test split of a served dataset ("mnist", "cifar10")."""
    from ..data import served
    (_, _), (x_test, y_test) = getattr(served, dataset)()
    return _checked(model, x_test, np.asarray(y_test).reshape(-1), question)


def _model_image_size(model: Any) -> tuple[int, int, int]:
    """(height, width, channels) a Keras model expects."""
    shape = tuple(model.input_shape)
    if len(shape) != 4:
        from .feedback import CheckFailed
        raise CheckFailed(f"expected a model taking images (batch, height, width, channels), "
                          f"its input shape is {shape}")
    return int(shape[1]), int(shape[2]), int(shape[3])


def load_folder(folder: Path, size: tuple[int, int], channels: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images of a class-per-folder tree as uint8 arrays, labels in sorted class order."""
    from PIL import Image

    folder = Path(folder)
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((folder / name).iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                with Image.open(path) as im:
                    im = im.convert("L" if channels == 1 else "RGB")
                    if im.size != (size[1], size[0]):
                        im = im.resize((size[1], size[0]), Image.BILINEAR)
                    array = np.asarray(im, dtype=np.uint8)
                images.append(array[..., None] if channels == 1 else array)
                labels.append(label)
    return np.stack(images), np.asarray(labels), classes


def folder_accuracy(model: Any, folder: Path, question: str, *, color_mode: str = "rgb") -> float:
    """Accuracy of a Keras ``model`` on a held-out class-per-folder tree (classes in sorted order)."""
    height, width, channels = _model_image_size(model)
    x, y, _ = load_folder(folder, (height, width), channels)
    return _checked(model, x, y, question)


def sample_images(folder: Path, per_class: int = 3) -> list[tuple[bytes, str]]:
    """A few held-out images as (PNG bytes, label) with labels 'Normal' / 'Pneumonia' style names."""
    folder = Path(folder)
    picked = []
    for class_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        step = max(1, len(files) // per_class)
        for path in files[::step][:per_class]:
            picked.append((path.read_bytes(), class_dir.name.capitalize()))
    return picked
