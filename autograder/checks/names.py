"""Find the conventional names a question grades (``model``, ``history``, ...) in a namespace."""

from __future__ import annotations

import numbers
import os
from typing import Any, Iterable, Mapping

from .feedback import CheckFailed, fmt_value

__all__ = ["HINTS", "require", "expect_type"]

#: Short hints for the conventional names questions use; shown when a name is missing.
HINTS: dict[str, str] = {
    "model": "the model you built and trained (a Keras model or a PyTorch nn.Module)",
    "history": "the return value of model.fit, or a dict of per-epoch lists such as "
               "{'accuracy': [...], 'val_accuracy': [...]}",
    "test_accuracy": "a float in [0, 1]: your model's accuracy on the test set",
    "test_loss": "a float: your model's loss on the test set",
    "train_time": "a float: training time in seconds, e.g. measured with time.perf_counter()",
    "train_loader": "a torch.utils.data.DataLoader over the training set",
    "test_loader": "a torch.utils.data.DataLoader over the test set",
    "val_loader": "a torch.utils.data.DataLoader over the validation set",
    "train_gen": "the training iterator from ImageDataGenerator.flow_from_directory",
    "train_generator": "the training iterator from ImageDataGenerator.flow_from_directory",
    "val_gen": "the validation iterator from ImageDataGenerator.flow_from_directory",
    "validation_generator": "the validation iterator from ImageDataGenerator.flow_from_directory",
    "base_model": "the pre-trained network you build on (e.g. VGG16(include_top=False))",
    "figure_path": "the path (str) of the figure file your code saved, e.g. 'accuracy.png'",
    "fig_path": "the path (str) of the figure file your code saved, e.g. 'accuracy.png'",
    "plot_path": "the path (str) of the figure file your code saved, e.g. 'accuracy.png'",
    "model_path": "the path (str) of the model file your code saved",
    "x_train": "the preprocessed training images (NumPy array)",
    "y_train": "the training labels (NumPy array)",
    "x_test": "the preprocessed test images (NumPy array)",
    "y_test": "the test labels (NumPy array)",
    "class_names": "the list of class names, in label order",
}


def _hint(name: str) -> str:
    hint = HINTS.get(name)
    if hint is None and name.endswith(("_path", "_file")):
        hint = "the path (str) of the file your code saved"
    return f" ({hint})" if hint else ""


def require(namespace: Mapping[str, Any], *names: str, question: str | None = None,
            allow_none: bool = False) -> tuple[Any, ...]:
    """Return the values of ``names`` in ``namespace`` (usually ``globals()``), in order.

    A missing name (or one still ``None``, unless ``allow_none``) raises :class:`CheckFailed`
    naming it, with a hint of what the question expects there.
    """
    values = []
    for name in names:
        if name not in namespace:
            raise CheckFailed(
                f"this question expects a variable named `{name}`{_hint(name)}; "
                "define it in your answer cell (check the spelling) and run the cell",
                question=question)
        value = namespace[name]
        if value is None and not allow_none:
            raise CheckFailed(
                f"`{name}` is None; assign it{_hint(name)} in your answer cell",
                question=question)
        values.append(value)
    return tuple(values)


# Named kinds accepted by expect_type, each a predicate and a description.
def _is_keras(obj: Any) -> bool:
    from .frameworks import framework_of_or_none
    return framework_of_or_none(obj) == "keras"


def _is_torch(obj: Any) -> bool:
    from .frameworks import framework_of_or_none
    return framework_of_or_none(obj) == "torch"


_KINDS: dict[str, tuple[Any, str]] = {
    "model": (lambda o: _is_keras(o) or _is_torch(o), "a Keras model or a PyTorch nn.Module"),
    "keras": (_is_keras, "a Keras model or layer"),
    "torch": (_is_torch, "a PyTorch nn.Module"),
    "number": (lambda o: isinstance(o, numbers.Real) and not isinstance(o, bool), "a number"),
    "int": (lambda o: isinstance(o, numbers.Integral) and not isinstance(o, bool), "an integer"),
    "float": (lambda o: isinstance(o, numbers.Real) and not isinstance(o, bool), "a float"),
    "str": (lambda o: isinstance(o, str), "a string"),
    "path": (lambda o: isinstance(o, (str, os.PathLike)), "a file path (str)"),
    "callable": (callable, "a function"),
    "array": (lambda o: hasattr(o, "shape") and hasattr(o, "dtype"), "an array"),
    "history": (lambda o: hasattr(o, "history") or isinstance(o, (dict, list)),
                "a Keras History, a dict of per-epoch lists or a list of per-epoch dicts"),
}


def expect_type(obj: Any, kinds: str | type | Iterable[str | type], name: str,
                *, question: str | None = None) -> Any:
    """Check ``obj`` is one of ``kinds`` (types or names in ``_KINDS``); return ``obj``."""
    if isinstance(kinds, (str, type)):
        kinds = [kinds]
    kinds = list(kinds)
    descriptions = []
    for kind in kinds:
        if isinstance(kind, type):
            if isinstance(obj, kind):
                return obj
            descriptions.append(kind.__name__)
        else:
            pred, desc = _KINDS[kind]
            if pred(obj):
                return obj
            descriptions.append(desc)
    got = type(obj).__name__
    raise CheckFailed(f"`{name}` should be {' or '.join(descriptions)}, "
                      f"got {got} {fmt_value(obj, 60)}", question=question)
