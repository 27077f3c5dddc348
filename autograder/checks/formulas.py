"""Reference implementations of CNN formulas, and a comparer for students' functions."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .feedback import CheckFailed, fmt_value

__all__ = [
    "conv_output_size", "same_padding_output", "valid_padding_output", "conv_params",
    "dense_params", "receptive_field", "pool2d", "compare_function", "fit_diagnosis", "FIT_LABELS",
    "dense_params_on_image", "conv_params_on_image", "pool_nhwc", "max_pool", "min_pool",
    "padded_output_size", "random_tensor",
]

# What a diagnosis of training curves may say, and the words that name each verdict.
FIT_LABELS = {"overfitting": ("overfit",), "underfitting": ("underfit",),
              "good fit": ("good", "fine", "well", "neither", "balanced")}


def conv_output_size(n: int, f: int, p: int, s: int) -> int:
    """Output size of a convolution/pooling: ``floor((n + 2p - f) / s) + 1``."""
    return (n + 2 * p - f) // s + 1


def same_padding_output(n: int, s: int) -> int:
    """Output size with 'same' padding (Keras/TensorFlow): ``ceil(n / s)``."""
    return -(-n // s)


def valid_padding_output(n: int, f: int, s: int) -> int:
    """Output size with 'valid' (no) padding: ``floor((n - f) / s) + 1``."""
    return (n - f) // s + 1


def conv_params(kh: int, kw: int, cin: int, cout: int, bias: bool = True) -> int:
    """Parameters of a 2D convolution: ``(kh*kw*cin + bias) * cout`` (stride plays no part)."""
    return (kh * kw * cin + int(bias)) * cout


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of a dense/linear layer: ``(n_in + bias) * n_out``."""
    return (n_in + int(bias)) * n_out


def fit_diagnosis(history: dict[str, Sequence[float]], gap: float = 0.1, low: float = 0.7) -> str:
    """From per-epoch ``accuracy`` and ``val_accuracy``: "overfitting" when the final training
    accuracy exceeds validation by more than ``gap``, "underfitting" when both end below ``low``,
    else "good fit". Graded only on histories far from these borders."""
    train, val = float(history["accuracy"][-1]), float(history["val_accuracy"][-1])
    if train - val > gap:
        return "overfitting"
    if train < low and val < low:
        return "underfitting"
    return "good fit"


def fit_label(text: str) -> str | None:
    """The verdict a free-text diagnosis names ("the model overfits" -> "overfitting"); None when it
    names none or several."""
    words = text.lower()
    named = [label for label, keys in FIT_LABELS.items() if any(k in words for k in keys)]
    if "overfitting" in named and "underfitting" in named:
        return None
    named = [n for n in named if n != "good fit"] or named     # "not a good fit: it overfits"
    return named[0] if len(named) == 1 else None


def dense_params_on_image(h: int, w: int, c: int, units: int) -> int:
    """A dense layer on a flattened ``h x w x c`` image: every pixel of every channel to every unit."""
    return dense_params(h * w * c, units)


def conv_params_on_image(h: int, w: int, c: int, filters: int, k: int) -> int:
    """A ``k x k`` conv layer with ``filters`` filters on the same image: independent of ``h`` and ``w``."""
    return conv_params(k, k, c, filters)


def per_class_report(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> dict[str, list]:
    """Confusion matrix (rows: true class, columns: predicted), per-class precision and recall;
    a class never predicted (or never present) has precision (recall) 0, as scikit-learn reports it."""
    confusion = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(y_true, y_pred):
        confusion[t][p] += 1
    predicted = [sum(row[c] for row in confusion) for c in range(n_classes)]
    actual = [sum(row) for row in confusion]
    return {"confusion": confusion,
            "precision": [confusion[c][c] / predicted[c] if predicted[c] else 0.0 for c in range(n_classes)],
            "recall": [confusion[c][c] / actual[c] if actual[c] else 0.0 for c in range(n_classes)]}


def receptive_field(layers: Iterable[tuple[int, int]]) -> int:
    """Receptive field of a stack of ``(kernel, stride)`` layers: ``r += (k-1)*j; j *= s``."""
    r, j = 1, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, numbers.Integral) else (int(v[0]), int(v[1]))


def pool2d(x: Any, window: int | Sequence[int], stride: int | Sequence[int] | None = None,
           mode: str = "max") -> np.ndarray:
    """Max/min/average pooling without padding of a 2D ``(H, W)`` or ``(H, W, C)`` array."""
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError("pool2d expects an (H, W) or (H, W, C) array")
    wh, ww = _pair(window)
    sh, sw = _pair(stride if stride is not None else window)
    reduce = {"max": np.max, "min": np.min, "avg": np.mean, "mean": np.mean}[mode]
    views = np.lib.stride_tricks.sliding_window_view(x, (wh, ww), axis=(0, 1))
    views = views[::sh, ::sw]  # (H', W', [C,] wh, ww)
    return reduce(views, axis=(-2, -1))


def pool_nhwc(x: Any, pool_size: int, stride: int | None = None, padding: int = 0,
              mode: str = "max") -> np.ndarray:
    """Max or min pooling of a batch ``(N, H, W, C)``: a ``pool_size`` square window moved by ``stride``
    (default: the window), ``padding`` rows and columns added on each side that never win (as
    ``nn.MaxPool2d(pool_size, stride, padding)``; min pooling is ``-maxpool(-x)``)."""
    x = np.asarray(x, dtype="float64")
    if x.ndim != 4:
        raise ValueError("pool_nhwc expects a batch of shape (N, H, W, C)")
    k, p = int(pool_size), int(padding)
    s = int(stride) if stride else k
    fill = -np.inf if mode == "max" else np.inf
    x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=fill)
    views = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]
    return (np.max if mode == "max" else np.min)(views, axis=(-2, -1))


def max_pool(x: Any, pool_size: int, stride: int | None = None, padding: int = 0) -> np.ndarray:
    return pool_nhwc(x, pool_size, stride, padding, "max")


def min_pool(x: Any, pool_size: int, stride: int | None = None, padding: int = 0) -> np.ndarray:
    return pool_nhwc(x, pool_size, stride, padding, "min")


def padded_output_size(n: int, f: int, s: int, padding: str) -> int:
    """Output size of a conv/pool layer with Keras' ``padding='same'`` (``ceil(n / s)``, whatever ``f``)
    or ``'valid'`` (``floor((n - f) / s) + 1``)."""
    if padding == "same":
        return same_padding_output(n, s)
    if padding == "valid":
        return valid_padding_output(n, f, s)
    raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")


def random_tensor(shape: Sequence[int], seed: int, ints: bool = False) -> np.ndarray:
    """The grader's test input for a pooling case (the kernel draws the same one from the same seed)."""
    rng = np.random.default_rng(int(seed))
    shape = tuple(int(d) for d in shape)
    return rng.integers(-9, 10, size=shape).astype("float64") if ints else rng.standard_normal(shape)


def _format_call(name: str, case: Any) -> str:
    args, kwargs = _split_case(case)
    parts = [_arg(a) for a in args] + [f"{k}={_arg(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _arg(v: Any) -> str:
    return _describe(v) if isinstance(v, np.ndarray) else fmt_value(v, 60)


def _split_case(case: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(case, dict):
        return (), dict(case)
    if isinstance(case, tuple):
        if len(case) == 2 and isinstance(case[0], tuple) and isinstance(case[1], dict):
            return case[0], case[1]
        return case, {}
    return (case,), {}


def _same(got: Any, want: Any, rtol: float, atol: float) -> bool:
    if isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        try:
            g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        except (TypeError, ValueError):
            return False
        return g.shape == w.shape and bool(np.allclose(g, w, rtol=rtol, atol=atol))
    if isinstance(want, numbers.Number) and not isinstance(want, bool):
        if not isinstance(got, numbers.Number) or isinstance(got, bool):
            return False
        return math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol)
    if isinstance(want, (tuple, list)) and isinstance(got, (tuple, list)):
        return len(got) == len(want) and all(_same(g, w, rtol, atol) for g, w in zip(got, want))
    return bool(got == want)


def _describe(v: Any) -> str:
    if isinstance(v, np.ndarray) and v.size > 16:
        return f"<array of shape {v.shape}>"
    if isinstance(v, np.ndarray):
        return np.array2string(v, separator=", ").replace("\n", "")
    return fmt_value(v, 80)


def compare_function(student_fn: Callable[..., Any], reference_fn: Callable[..., Any],
                     cases: Iterable[Any], name: str | None = None, *, reveal: bool = True,
                     rtol: float = 0.0, atol: float = 1e-9, question: str | None = None) -> int:
    """Run ``cases`` through both functions; raise on the first disagreement, naming the case.

    A case is an argument tuple, a single argument, a kwargs dict or ``(args, kwargs)``.
    With ``reveal=False`` the message shows the input and the student's output only.
    Returns the number of cases checked.
    """
    if not callable(student_fn):
        raise CheckFailed(f"`{name or 'the function'}` should be a function, got "
                          f"{type(student_fn).__name__}", question=question)
    name = name or getattr(student_fn, "__name__", "function")
    count = 0
    for case in cases:
        args, kwargs = _split_case(case)
        call = _format_call(name, case)
        want = reference_fn(*args, **kwargs)
        try:
            got = student_fn(*args, **kwargs)
        except Exception as err:
            raise CheckFailed(f"{call} raised {type(err).__name__}: {err}",
                              question=question) from None
        if not _same(got, want, rtol, atol):
            shape_note = ""
            if isinstance(want, np.ndarray):
                g = np.asarray(got) if not isinstance(got, np.ndarray) else got
                if g.shape != want.shape:
                    shape_note = f" (shape {g.shape}" + (f", expected {want.shape})" if reveal else ")")
            expect = f", expected {_describe(want)}" if reveal else ", which is not correct"
            raise CheckFailed(f"{call} returned {_describe(got)}{shape_note}{expect}",
                              question=question)
        count += 1
    return count
