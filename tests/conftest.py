"""Shared fixtures. torch and torchvision are imported first: importing TensorFlow and then
torchvision in one process crashes it, the other order is safe."""
import torch  # noqa: F401  (import order matters, see above)
import torchvision  # noqa: F401

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
