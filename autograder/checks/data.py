"""Checks of what students feed their models: preprocessed arrays, loaders, generators."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .feedback import CheckFailed


def scaled_images(x: Any, shape: tuple[int, ...], name: str = "x_train") -> None:
    """``x`` is a float array of images with per-image ``shape`` and values in [0, 1]."""
    x = np.asarray(x)
    if tuple(x.shape[1:]) != tuple(shape):
        raise CheckFailed(f"expected {name} to hold images of shape {tuple(shape)}, got {tuple(x.shape[1:])}")
    if not np.issubdtype(x.dtype, np.floating):
        raise CheckFailed(f"expected {name} as floats (e.g. astype('float32') / 255), got dtype {x.dtype}")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0 or hi <= 0.0:
        raise CheckFailed(f"expected {name} scaled to [0, 1], got values from {lo:.3g} to {hi:.3g}")


def data_loader(loader: Any, image_shape: tuple[int, ...], name: str = "loader") -> None:
    """``loader`` is a torch DataLoader yielding (images, labels) with images of ``image_shape``."""
    import torch
    from torch.utils.data import DataLoader

    if not isinstance(loader, DataLoader):
        raise CheckFailed(f"expected a torch.utils.data.DataLoader, got {type(loader).__name__}")
    images, labels = next(iter(loader))
    if not isinstance(images, torch.Tensor) or tuple(images.shape[1:]) != tuple(image_shape):
        got = tuple(images.shape[1:]) if hasattr(images, "shape") else type(images).__name__
        raise CheckFailed(f"expected batches of images shaped (batch, {', '.join(map(str, image_shape))}), got {got}")
    if images.dtype != torch.float32 or float(images.max()) > 1.0 or float(images.min()) < 0.0:
        raise CheckFailed("expected float32 images in [0, 1] (transforms.ToTensor()); "
                          f"got {images.dtype} from {float(images.min()):.3g} to {float(images.max()):.3g}")
    if len(labels) != len(images):
        raise CheckFailed(f"expected one label per image, got {len(labels)} labels for {len(images)} images")


def directory_iterator(gen: Any, folder: Path, image_size: int) -> None:
    """``gen`` comes from ``ImageDataGenerator.flow_from_directory`` on ``folder``, rescaled to [0, 1]."""
    classes = sorted(d.name for d in Path(folder).iterdir() if d.is_dir())
    if not hasattr(gen, "class_indices") or not hasattr(gen, "image_shape"):
        raise CheckFailed(f"expected a generator from flow_from_directory, got {type(gen).__name__}")
    if sorted(gen.class_indices) != classes:
        raise CheckFailed(f"expected the classes {classes} (one per sub-folder), got {sorted(gen.class_indices)}")
    if tuple(gen.image_shape[:2]) != (image_size, image_size):
        raise CheckFailed(f"expected target_size=({image_size}, {image_size}), got {tuple(gen.image_shape[:2])}")
    gen.reset() if hasattr(gen, "reset") else None
    batch = gen[0][0]
    if float(np.max(batch)) > 1.0:
        raise CheckFailed("expected images rescaled to [0, 1] (ImageDataGenerator(rescale=1/255)); "
                          f"got values up to {float(np.max(batch)):.1f}")
