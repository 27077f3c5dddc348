"""Statistical checks: predictions and accuracy on held-out data, training histories.

Convention: checks feed images as float32 in [0, 1]; ``uint8`` inputs are divided by 255.
Inputs are adapted to the model's layout (flattened, ``(N, H, W)``, NHWC, NCHW).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from .feedback import CheckFailed, fmt_number
from .frameworks import framework_of, is_torch_tensor
from .models import _first_output, _short_error, _torch_device, leaf_layers

__all__ = [
    "to_numpy", "adapt_keras_input", "adapt_torch_input", "predict_labels", "labels_of",
    "accuracy", "accuracy_at_least", "accuracy_reaches", "value_at_least", "matches_reported", "history_metric",
]


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy array from an array, a torch tensor or a TF tensor."""
    if is_torch_tensor(x):
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _as_float_images(x: Any) -> np.ndarray:
    x = to_numpy(x)
    if x.dtype == np.uint8:
        return x.astype("float32") / 255.0
    return x.astype("float32", copy=False)


def _fit_channels(x: np.ndarray, channels: int | None, axis: int) -> np.ndarray:
    """Repeat a single channel to ``channels`` (grayscale into an RGB model)."""
    if channels and x.shape[axis] == 1 and channels != 1:
        x = np.repeat(x, channels, axis=axis)
    return x


def adapt_keras_input(model: Any, x: Any) -> np.ndarray:
    """Reshape ``x`` to ``model.input_shape`` (flattened, ``(N, H, W)``, NCHW -> NHWC)."""
    x = _as_float_images(x)
    try:
        shape = model.input_shape
    except Exception:  # subclassed model that was never called: feed as is
        return x
    if isinstance(shape, list):
        shape = shape[0]
    target = tuple(shape[1:])
    if x.shape[1:] == target:
        return x
    n = x.shape[0]
    if None not in target and math.prod(x.shape[1:]) == math.prod(target):
        if x.ndim == 4 and len(target) == 3 and x.shape[1:] == (target[2], target[0], target[1]):
            return x.transpose(0, 2, 3, 1)
        return x.reshape((n, *target))
    if len(target) == 3 and x.ndim == 3:  # (N, H, W) -> (N, H, W, 1)
        x = x[..., None]
    if len(target) == 3 and x.ndim == 4:
        if target[2] is not None and x.shape[1] == target[2] and x.shape[3] != target[2]:
            x = x.transpose(0, 2, 3, 1)
        x = _fit_channels(x, target[2], axis=3)
    if len(target) == 1 and x.ndim > 2:
        x = x.reshape(n, -1)
    return x


def _torch_first_layer(model: Any) -> tuple[str | None, int | None]:
    """``('conv', in_channels)``, ``('flatten', None)``, ``('linear', None)`` or ``(None, None)``."""
    import torch
    for m in leaf_layers(model):
        if isinstance(m, torch.nn.Conv2d):
            return "conv", int(m.in_channels)
        if isinstance(m, torch.nn.Flatten):
            return "flatten", None
        if isinstance(m, torch.nn.Linear):
            return "linear", None
    return None, None


def adapt_torch_input(model: Any, x: Any) -> Any:
    """A float NCHW tensor on the model's device, from NHWC/NCHW/(N, H, W)/flattened input."""
    import torch
    x = _as_float_images(x)
    first, c = _torch_first_layer(model)
    n = x.shape[0]
    if x.ndim == 2 and c is not None:  # flattened images: assume square
        side = int(round(math.sqrt(x.shape[1] / c)))
        if c * side * side == x.shape[1]:
            x = x.reshape(n, c, side, side)
    elif x.ndim == 3:
        x = x[:, None, :, :]
    if x.ndim == 4:
        if c is not None:
            if x.shape[1] != c and x.shape[3] == c:
                x = x.transpose(0, 3, 1, 2)
            elif x.shape[1] != c and x.shape[3] == 1 and x.shape[1] != 1:
                x = x.transpose(0, 3, 1, 2)
        elif x.shape[3] in (1, 3) and x.shape[1] not in (1, 3):
            x = x.transpose(0, 3, 1, 2)
        x = _fit_channels(x, c, axis=1)
        if first == "linear":  # an MLP without nn.Flatten: feed flattened CHW images
            x = x.reshape(n, -1)
    return torch.from_numpy(np.ascontiguousarray(x)).to(_torch_device(model))


def _scores_to_labels(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim == 1:  # one sigmoid unit (probability) or one logit
        cut = 0.5 if scores.size == 0 or (scores.min() >= 0 and scores.max() <= 1) else 0.0
        return (scores > cut).astype("int64")
    return scores.reshape(scores.shape[0], -1).argmax(axis=1)


def predict_scores(model: Any, x: Any, batch_size: int = 256) -> np.ndarray:
    """Raw model outputs for ``x`` (adapted to the model), as a NumPy array."""
    try:
        if framework_of(model) == "keras":
            xa = adapt_keras_input(model, x)
            return np.asarray(_first_output(model.predict(xa, batch_size=batch_size, verbose=0)))
        import torch
        xt = adapt_torch_input(model, x)
        was_training = model.training
        model.eval()
        outs = []
        try:
            with torch.no_grad():
                for i in range(0, xt.shape[0], batch_size):
                    outs.append(_first_output(model(xt[i:i + batch_size])).float().cpu().numpy())
        finally:
            model.train(was_training)
        return np.concatenate(outs) if outs else np.zeros((0,))
    except CheckFailed:
        raise
    except Exception as err:
        shape = tuple(getattr(x, "shape", ()))
        raise CheckFailed(f"running the model on held-out images of shape {shape} failed "
                          f"with {_short_error(err)}") from None


def predict_labels(model: Any, x: Any, batch_size: int = 256) -> np.ndarray:
    """Predicted class labels: argmax for (N, K) outputs, a 0.5 (or 0 for logits)
    threshold for a single sigmoid/logit output."""
    return _scores_to_labels(predict_scores(model, x, batch_size))


def labels_of(y: Any) -> np.ndarray:
    """Integer labels from integer labels, one-hot rows or an (N, 1) column."""
    y = to_numpy(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype("int64")


def accuracy(model: Any, x: Any, y: Any, batch_size: int = 256) -> float:
    """Fraction of ``x`` the model labels as ``y``."""
    y = labels_of(y)
    pred = predict_labels(model, x, batch_size)
    if pred.shape[0] != y.shape[0]:
        raise CheckFailed(f"the model returned {pred.shape[0]} predictions for {y.shape[0]} images")
    return float((pred == y).mean()) if y.size else 0.0


def _chance(y: np.ndarray) -> float:
    if y.size == 0:
        return 0.0
    return float(np.bincount(y - y.min()).max() / y.size)


def accuracy_at_least(model: Any, x: Any, y: Any, threshold: float, *,
                      reveal_threshold: bool = True, what: str = "test accuracy",
                      question: str | None = None) -> float:
    """Check accuracy on held-out ``(x, y)`` reaches ``threshold``; return the accuracy."""
    labels = labels_of(y)
    return accuracy_reaches(accuracy(model, x, labels), labels, threshold, reveal_threshold=reveal_threshold,
                            what=what, question=question)


def accuracy_reaches(acc: float, labels: Any, threshold: float, *, reveal_threshold: bool = True,
                     what: str = "test accuracy", question: str | None = None) -> float:
    """Check an accuracy already measured on held-out ``labels`` reaches ``threshold``."""
    labels = labels_of(labels)
    if acc >= threshold:
        return acc
    bar = f"{threshold:.2f}" if reveal_threshold else "the required threshold for this question"
    chance = _chance(labels)
    msg = f"{what} {acc:.3f} on {fmt_number(labels.size)} held-out images is below {bar}"
    if acc <= chance + 0.05:
        msg += (f" — a model at chance level scores about {chance:.2f}; check that it trains "
                "(loss going down), that labels match the images, and that inputs are scaled to "
                "[0, 1] as float32")
    else:
        msg += " — train for more epochs or improve the architecture"
    raise CheckFailed(msg, question=question)


def value_at_least(value: Any, threshold: float, *, what: str = "test_accuracy",
                   reveal_threshold: bool = True, question: str | None = None) -> float:
    """Check a reported number reaches ``threshold``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"`{what}` should be a number, got {type(value).__name__}",
                          question=question) from None
    if v >= threshold:
        return v
    bar = f"{threshold:.2f}" if reveal_threshold else "the required threshold for this question"
    raise CheckFailed(f"{what} {v:.3f} is below {bar}", question=question)


def matches_reported(reported: Any, actual: float, *, tolerance: float = 0.02,
                     what: str = "test_accuracy", question: str | None = None) -> float:
    """Check a student's reported accuracy agrees with the recomputed one (percent accepted)."""
    try:
        r = float(reported)
    except (TypeError, ValueError):
        raise CheckFailed(f"`{what}` should be a number, got {type(reported).__name__}",
                          question=question) from None
    if r > 1.0 and actual <= 1.0:
        r /= 100.0
    if abs(r - actual) > tolerance:
        raise CheckFailed(f"you reported {what} = {r:.3f}, but the model scores {actual:.3f} on "
                          "the test set; report the value your code computes", question=question)
    return r


_ALIASES: dict[str, tuple[str, ...]] = {
    "accuracy": ("accuracy", "acc", "train_accuracy", "train_acc"),
    "val_accuracy": ("val_accuracy", "val_acc", "valid_accuracy", "validation_accuracy",
                     "valid_acc"),
    "loss": ("loss", "train_loss"),
    "val_loss": ("val_loss", "valid_loss", "validation_loss"),
}


def _alias_group(name: str) -> tuple[str, ...]:
    for group in _ALIASES.values():
        if name in group:
            return group
    return (name,)


def history_metric(history: Any, name: str, *, question: str | None = None) -> list[float]:
    """Per-epoch values of ``name`` from a Keras History, a dict of lists or a list of
    per-epoch dicts (``'accuracy'``/``'acc'``, ``'val_accuracy'``/``'val_acc'`` are aliases)."""
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        table: Mapping[str, Sequence[Any]] = history.history
    elif isinstance(history, Mapping):
        table = history
    elif isinstance(history, (list, tuple)) and all(isinstance(e, Mapping) for e in history):
        keys = {k for e in history for k in e}
        table = {k: [e[k] for e in history if k in e] for k in keys}
    else:
        raise CheckFailed("`history` should be the return value of model.fit, a dict of "
                          f"per-epoch lists or a list of per-epoch dicts, got "
                          f"{type(history).__name__}", question=question)
    for key in _alias_group(name):
        if key in table:
            values = table[key]
            values = [values] if np.ndim(values) == 0 else list(values)
            return [float(to_numpy(v)) for v in values]
    have = ", ".join(sorted(map(str, table))) or "nothing"
    hint = (" (pass validation_data=... or validation_split=... to fit, or record it each epoch)"
            if name.startswith("val") else "")
    raise CheckFailed(f"`history` has no '{name}' entry{hint}; it has: {have}", question=question)
