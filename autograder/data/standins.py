"""Generated stand-ins for data that cannot be installed offline, honestly named.

All are deterministic (seeded). Image folders are written once: a ``.complete`` marker holds
the parameters, and the tree is regenerated only when they change.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from . import sources

CIFAR_STANDIN = "fashion-mnist-32x32x3 (stand-in for CIFAR-10)"
XRAY_STANDIN = "synthetic-xray (stand-in for the chest X-ray set)"
XRAY_CLASSES = ("NORMAL", "PNEUMONIA")
TRIAGE_STANDIN = "synthetic-xray-3class (stand-in for the COVID-19 Radiography Database)"
TRIAGE_CLASSES = ("COVID19", "NORMAL", "PNEUMONIA")
MARKER = ".complete"
VERSION = 1


def cifar_shaped_fashion(n_train: int = 10000, n_test: int = 2000, seed: int = 0):
    """Real Fashion-MNIST as CIFAR-10 is shaped: uint8 (N, 32, 32, 3), labels uint8 (N, 1).

    A seeded random subset, zero-padded from 28x28 to 32x32 and repeated to 3 channels.
    """
    (xtr, ytr), (xte, yte) = sources.fashion_mnist()
    rng = np.random.default_rng(seed)
    itr = np.sort(rng.choice(len(xtr), n_train, replace=False))
    ite = np.sort(rng.choice(len(xte), n_test, replace=False))

    def shape(x: np.ndarray, y: np.ndarray):
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
        return np.repeat(x[..., None], 3, axis=-1), y.reshape(-1, 1).astype(np.uint8)

    return shape(xtr[itr], ytr[itr]), shape(xte[ite], yte[ite])


def _write_tree(root: Path, params: dict, classes: tuple[str, ...], n_train: int | dict[str, int],
                n_test: int, render: Callable[[np.random.Generator, str], np.ndarray], seed: int) -> Path:
    """Write ``root/{train,test}/<class>/*.png`` once per parameter set (``n_train`` per class, or one
    count for every class)."""
    from PIL import Image

    root = Path(root)
    marker = root / MARKER
    params = {**params, "version": VERSION, "n_train": n_train, "n_test": n_test, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == params:
        return root
    marker.unlink(missing_ok=True)
    for split in ("train", "test"):
        shutil.rmtree(root / split, ignore_errors=True)
    for s, (split, count) in enumerate((("train", n_train), ("test", n_test))):
        for c, cls in enumerate(classes):
            n = count[cls] if isinstance(count, dict) else count
            rng = np.random.default_rng([seed, s, c])
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(render(rng, cls)).save(folder / f"{cls.lower()}_{i:04d}.png",
                                                       compress_level=1)
    marker.write_text(json.dumps(params, sort_keys=True))
    return root


def _xray(size: int) -> Callable[[np.random.Generator, str], np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size

    def blob(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2

    def render(rng: np.random.Generator, cls: str) -> np.ndarray:
        dx, dy = rng.normal(0, 0.02, 2)
        scale = rng.uniform(0.92, 1.05)
        body = blob(0.5 + dx, 0.55 + dy, 0.42 * scale, 0.52 * scale) <= 1
        img = np.where(body, rng.uniform(0.55, 0.7), rng.uniform(0.02, 0.08))
        lungs = []
        for side in (-1, 1):
            lung = blob(0.5 + side * 0.17 * scale + dx, 0.5 + dy, 0.12 * scale, 0.28 * scale)
            lungs.append(lung)
            img = np.where(lung <= 1, rng.uniform(0.12, 0.22), img)
        ribs = 0.5 + 0.5 * np.sin((yy - dy) * 2 * np.pi * rng.uniform(7.5, 9.0)
                                  + 3 * np.abs(xx - 0.5))
        in_lung = (lungs[0] <= 1) | (lungs[1] <= 1)
        img = img + np.where(in_lung, 0.12 * ribs ** 4, 0)
        img = img + np.where(np.abs(xx - 0.5 - dx) < 0.035, 0.2, 0) * body  # spine
        if cls == "COVID19":          # bilateral, peripheral, lower-zone ground-glass haze
            for side, lung in zip((-1, 1), lungs):
                edge = np.clip(side * (xx - 0.5 - dx) / (0.3 * scale), 0, 1) ** 2
                low = np.clip((yy - 0.45 - dy) / 0.3, 0, 1)
                img = img + rng.uniform(0.25, 0.4) * edge * low * (lung <= 1.1)
        if cls == "PNEUMONIA":
            lung = lungs[rng.integers(2)]
            for _ in range(rng.integers(2, 5)):
                ys, xs = np.nonzero(lung <= 0.7)
                k = rng.integers(len(ys))
                r = rng.uniform(0.06, 0.12)
                d2 = (xx - xs[k] / size) ** 2 + (yy - ys[k] / size) ** 2
                img = img + rng.uniform(0.25, 0.4) * np.exp(-d2 / (2 * r * r)) * (lung <= 1.15)
        img = img + rng.normal(0, 0.03, img.shape)
        return (np.clip(img, 0, 1) * 255).astype(np.uint8)

    return render


def xray_folder(root: str | Path, n_per_class: int = 100, size: int = 64,
                n_test_per_class: int | None = None, seed: int = 0) -> Path:
    """Synthetic grayscale chest-radiograph-like PNGs laid out like the Kermany set:
    ``root/{train,test}/{NORMAL,PNEUMONIA}/`` (pneumonia adds diffuse opacities in a lung)."""
    n_test = max(1, n_per_class // 4) if n_test_per_class is None else n_test_per_class
    return _write_tree(Path(root), {"kind": "xray", "size": size}, XRAY_CLASSES,
                       n_per_class, n_test, _xray(size), seed)


def triage_folder(root: str | Path, n_train: dict[str, int], size: int = 64, n_test_per_class: int = 40,
                  seed: int = 0) -> Path:
    """Three synthetic classes laid out like the COVID-19 Radiography Database, with its imbalance:
    ``root/{train,test}/{COVID19,NORMAL,PNEUMONIA}/`` (COVID-19 adds a faint haze at the periphery of
    both lower lungs; pneumonia, focal opacities in one lung)."""
    return _write_tree(Path(root), {"kind": "xray3", "size": size}, TRIAGE_CLASSES,
                       dict(n_train), n_test_per_class, _xray(size), seed)
