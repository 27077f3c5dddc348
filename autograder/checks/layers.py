"""Build real Keras / PyTorch layers to check students' formulas against.

Each helper imports its framework lazily. In one process, import torch (and torchvision)
before Keras/TensorFlow: the other order can crash.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

__all__ = [
    "keras_conv_output", "torch_conv_output", "keras_conv_params", "torch_conv_params",
    "keras_dense_params", "torch_dense_params", "keras_pool", "torch_pool",
]


def keras_conv_output(n: int, f: int, p: str | int, s: int, c_in: int = 1) -> int:
    """Spatial output size of a real Keras ``Conv2D`` on an ``n x n x c_in`` input.

    ``p`` is ``'same'``, ``'valid'`` or an int (Keras has no integer padding, so that is
    ``ZeroPadding2D(p)`` followed by a 'valid' convolution).
    """
    import keras
    x = np.zeros((1, n, n, c_in), dtype="float32")
    if isinstance(p, numbers.Integral):
        if p:
            x = keras.layers.ZeroPadding2D(int(p))(x)
        mode = "valid"
    else:
        mode = str(p)
    y = keras.layers.Conv2D(1, f, strides=s, padding=mode)(x)
    return int(y.shape[1])


def torch_conv_output(n: int, f: int, p: str | int, s: int, c_in: int = 1) -> int:
    """Spatial output size of a real ``nn.Conv2d`` on a ``c_in x n x n`` input."""
    import torch
    conv = torch.nn.Conv2d(c_in, 1, f, stride=s, padding=p)
    with torch.no_grad():
        return int(conv(torch.zeros(1, c_in, n, n)).shape[-1])


def keras_conv_params(kh: int, kw: int, cin: int, cout: int, stride: int = 1,
                      bias: bool = True) -> int:
    """``count_params()`` of a real Keras ``Conv2D``."""
    import keras
    layer = keras.layers.Conv2D(cout, (kh, kw), strides=stride, use_bias=bias)
    layer.build((None, max(kh, 8) * 2, max(kw, 8) * 2, cin))
    return int(layer.count_params())


def torch_conv_params(kh: int, kw: int, cin: int, cout: int, stride: int = 1,
                      bias: bool = True) -> int:
    """Parameter count of a real ``nn.Conv2d``."""
    import torch
    conv = torch.nn.Conv2d(cin, cout, (kh, kw), stride=stride, bias=bias)
    return int(sum(p.numel() for p in conv.parameters()))


def keras_dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """``count_params()`` of a real Keras ``Dense``."""
    import keras
    layer = keras.layers.Dense(n_out, use_bias=bias)
    layer.build((None, n_in))
    return int(layer.count_params())


def torch_dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameter count of a real ``nn.Linear``."""
    import torch
    return int(sum(p.numel() for p in torch.nn.Linear(n_in, n_out, bias=bias).parameters()))


def _as_nhwc(x: Any) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype="float32")
    if x.ndim == 2:
        return x[None, :, :, None], True
    if x.ndim == 3:
        return x[None], False
    raise ValueError("expected an (H, W) or (H, W, C) array")


def keras_pool(x: Any, window: int | Sequence[int], stride: int | Sequence[int] | None = None,
               mode: str = "max") -> np.ndarray:
    """Pool an ``(H, W)``/``(H, W, C)`` array with real Keras layers ('valid' padding).

    Min pooling is ``-MaxPooling2D(-x)``.
    """
    import keras
    xb, squeeze = _as_nhwc(x)
    stride = stride if stride is not None else window
    if mode in ("avg", "mean"):
        layer = keras.layers.AveragePooling2D(pool_size=window, strides=stride, padding="valid")
        y = layer(xb)
    else:
        layer = keras.layers.MaxPooling2D(pool_size=window, strides=stride, padding="valid")
        y = layer(-xb) * -1 if mode == "min" else layer(xb)
    y = np.asarray(keras.ops.convert_to_numpy(y))[0]
    return y[..., 0] if squeeze else y


def torch_pool(x: Any, window: int | Sequence[int], stride: int | Sequence[int] | None = None,
               mode: str = "max") -> np.ndarray:
    """Pool an ``(H, W)``/``(H, W, C)`` array with real torch layers (no padding).

    Min pooling is ``-MaxPool2d(-x)``.
    """
    import torch
    xb, squeeze = _as_nhwc(x)
    t = torch.from_numpy(np.ascontiguousarray(xb.transpose(0, 3, 1, 2)))
    stride = stride if stride is not None else window
    if mode in ("avg", "mean"):
        y = torch.nn.AvgPool2d(window, stride)(t)
    else:
        pool = torch.nn.MaxPool2d(window, stride)
        y = -pool(-t) if mode == "min" else pool(t)
    out = y.detach().numpy()[0].transpose(1, 2, 0)
    return out[..., 0] if squeeze else out
