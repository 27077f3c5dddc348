"""Tell Keras from PyTorch objects without importing the other framework.

Importing TensorFlow/Keras and then torchvision in one process crashes, so nothing here imports
a framework: detection reads the class hierarchy's module names, and isinstance checks use the
framework only when it is already in ``sys.modules``.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

from .feedback import CheckFailed

__all__ = ["framework_of", "framework_of_or_none", "is_keras", "is_torch", "is_torch_tensor"]

Framework = Literal["keras", "torch"]

_KERAS_ROOTS = ("keras", "tf_keras", "tensorflow")


def framework_of_or_none(obj: Any) -> Framework | None:
    """``"keras"``, ``"torch"`` or ``None`` for a model/layer/module object."""
    for cls in type(obj).__mro__:
        root = (cls.__module__ or "").split(".", 1)[0]
        if root in _KERAS_ROOTS:
            return "keras"
        if root == "torch":
            return "torch"
    return None


def framework_of(obj: Any, *, name: str = "model") -> Framework:
    """Return ``"keras"`` for a Keras Model/Sequential/Layer, ``"torch"`` for an nn.Module."""
    kind = framework_of_or_none(obj)
    if kind == "torch" and "torch" in sys.modules and not isinstance(obj, sys.modules["torch"].nn.Module):
        kind = None  # a tensor or optimiser, not a module
    if kind is None:
        raise CheckFailed(f"`{name}` should be a Keras model or a PyTorch nn.Module, "
                          f"got {type(obj).__module__}.{type(obj).__name__}")
    return kind


def is_keras(obj: Any) -> bool:
    """True for Keras (or tf.keras) objects."""
    return framework_of_or_none(obj) == "keras"


def is_torch(obj: Any) -> bool:
    """True for PyTorch nn.Module objects."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def is_torch_tensor(obj: Any) -> bool:
    """True for a torch.Tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)
