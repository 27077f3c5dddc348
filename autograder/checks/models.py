"""Framework-agnostic structural checks: output shapes, parameter counts, layer kinds."""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np

from .feedback import CheckFailed, fmt_number, fmt_seq, fmt_shape
from ..kernel.evidence import _first_output  # noqa: F401  (shared with the kernel side)
from .frameworks import framework_of

__all__ = [
    "forward_shape", "output_shape", "count_params", "param_count", "frozen_vs_trainable",
    "transfer_frozen", "layer_kinds", "layer_sequence", "conv_layers", "leaf_layers",
]

Shape = tuple[int | None, ...]


# ---------------------------------------------------------------------------- forward passes
def _torch_device(model: Any) -> Any:
    import torch
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")




def _short_error(err: BaseException, limit: int = 300) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def forward_shape(model: Any, input_shape: Sequence[int]) -> tuple[int, ...]:
    """Shape of ``model``'s (first) output for an all-zeros input of ``input_shape``.

    Keras models are called with ``training=False``; torch modules run in eval mode under
    ``no_grad`` on their own device, and their train/eval mode is restored afterwards.
    """
    kind = framework_of(model)
    input_shape = tuple(int(d) for d in input_shape)
    try:
        if kind == "keras":
            x = np.zeros(input_shape, dtype="float32")
            y = _first_output(model(x, training=False))
            return tuple(int(d) for d in y.shape)
        import torch
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                x = torch.zeros(input_shape, device=_torch_device(model))
                y = _first_output(model(x))
        finally:
            model.train(was_training)
        return tuple(int(d) for d in y.shape)
    except CheckFailed:
        raise
    except Exception as err:  # the student's model failed on a valid input
        raise CheckFailed(f"calling the model on an input of shape {fmt_shape(input_shape)} "
                          f"failed with {_short_error(err)}") from None


def output_shape(model: Any, input_shape: Sequence[int], expected: Sequence[int | None], *,
                 question: str | None = None) -> tuple[int | None, ...]:
    """Check the output shape for an input of ``input_shape`` (batch included).

    ``None`` in ``expected`` matches any size (use it for the batch). Returns the shape as
    reported, with the batch shown as ``None`` when ``expected`` has ``None`` there.
    """
    actual = forward_shape(model, input_shape)
    expected = tuple(expected)
    shown = tuple(None if (i < len(expected) and expected[i] is None) else d
                  for i, d in enumerate(actual))
    ok = len(actual) == len(expected) and all(e is None or int(e) == a
                                              for e, a in zip(expected, actual))
    if not ok:
        raise CheckFailed(f"for an input of shape {fmt_shape(input_shape)}, expected output shape "
                          f"{fmt_shape(expected)}, got {fmt_shape(shown)}", question=question)
    return shown


# ---------------------------------------------------------------------------- parameters
def _keras_numel(weights: Sequence[Any]) -> int:
    return int(sum(math.prod(int(d) for d in w.shape) for w in weights))


def _keras_built(model: Any) -> None:
    if not getattr(model, "built", True):
        raise CheckFailed("the model is not built yet, so it has no parameters: give it an "
                          "input shape (keras.Input(shape=...) as its first layer) or call it "
                          "on data before this check")


def count_params(model: Any, trainable: bool | None = None) -> int:
    """Number of parameters; ``trainable=True``/``False`` counts only trainable/frozen ones.

    Keras counts all weights (including BatchNorm moving statistics, as ``count_params()``
    does); PyTorch counts ``parameters()`` (not buffers), split by ``requires_grad``.
    """
    if framework_of(model) == "keras":
        _keras_built(model)
        if trainable is None:
            return int(model.count_params())
        return _keras_numel(model.trainable_weights if trainable else model.non_trainable_weights)
    return int(sum(p.numel() for p in model.parameters()
                   if trainable is None or bool(p.requires_grad) == trainable))


def param_count(model: Any, expected: int, *, trainable: bool | None = None, tolerance: int = 0,
                reveal: bool = True, question: str | None = None) -> int:
    """Check the parameter count equals ``expected`` (within ``tolerance``); return it."""
    actual = count_params(model, trainable)
    if abs(actual - int(expected)) <= tolerance:
        return actual
    what = {None: "parameters", True: "trainable parameters", False: "frozen parameters"}[trainable]
    if reveal:
        msg = f"expected {fmt_number(int(expected))} {what}, got {fmt_number(actual)}"
    else:
        msg = (f"your model has {fmt_number(actual)} {what}, which is not the number the "
               "architecture in this question has")
    if trainable is None:
        msg += "; check kernel sizes, filter counts, dense widths and the input shape"
    raise CheckFailed(msg, question=question)


def frozen_vs_trainable(model: Any) -> tuple[int, int]:
    """``(frozen, trainable)`` parameter counts."""
    return count_params(model, trainable=False), count_params(model, trainable=True)


def transfer_frozen(model: Any, *, min_frozen: int = 1, min_trainable: int = 1,
                    question: str | None = None) -> tuple[int, int]:
    """Check a transfer-learning model has a frozen base and a trainable head."""
    frozen, trainable = frozen_vs_trainable(model)
    if frozen < min_frozen:
        raise CheckFailed(f"expected the pre-trained base to be frozen, but only "
                          f"{fmt_number(frozen)} parameters are frozen; set "
                          "base_model.trainable = False (Keras) or requires_grad = False (PyTorch)",
                          question=question)
    if trainable < min_trainable:
        raise CheckFailed(f"expected a trainable new head, but only {fmt_number(trainable)} "
                          "parameters are trainable", question=question)
    return frozen, trainable


# ---------------------------------------------------------------------------- layer kinds
_KIND_BY_CLASS: dict[str, str] = {
    # Keras
    "conv2d": "conv", "conv1d": "conv1d", "conv3d": "conv3d",
    "depthwiseconv2d": "conv_depthwise", "separableconv2d": "conv_separable",
    "conv2dtranspose": "conv_transpose",
    "maxpooling2d": "pool_max", "maxpool2d": "pool_max", "averagepooling2d": "pool_avg",
    "avgpool2d": "pool_avg", "globalaveragepooling2d": "pool_global_avg",
    "globalmaxpooling2d": "pool_global_max", "maxpooling1d": "pool_max", "averagepooling1d": "pool_avg",
    "dense": "dense", "flatten": "flatten", "reshape": "reshape",
    "dropout": "dropout", "spatialdropout2d": "dropout",
    "batchnormalization": "batchnorm", "layernormalization": "layernorm",
    "activation": "activation", "relu": "activation", "softmax": "activation",
    "leakyrelu": "activation", "elu": "activation", "prelu": "activation",
    "zeropadding2d": "padding", "rescaling": "preprocess", "normalization": "preprocess",
    "resizing": "preprocess", "add": "add", "concatenate": "concat", "lambda": "lambda",
    # PyTorch
    "convtranspose2d": "conv_transpose",
    "adaptiveavgpool2d": "pool_adaptive_avg", "adaptivemaxpool2d": "pool_adaptive_max",
    "maxpool1d": "pool_max", "avgpool1d": "pool_avg",
    "linear": "dense", "lazylinear": "dense", "lazyconv2d": "conv", "unflatten": "reshape",
    "dropout2d": "dropout", "dropout1d": "dropout", "alphadropout": "dropout",
    "batchnorm1d": "batchnorm", "batchnorm2d": "batchnorm", "layernorm": "layernorm",
    "tanh": "activation", "sigmoid": "activation", "gelu": "activation", "silu": "activation",
    "relu6": "activation", "logsoftmax": "activation", "softplus": "activation",
    "hardtanh": "activation", "selu": "activation", "mish": "activation",
    "localresponsenorm": "lrn", "zeropad2d": "padding", "constantpad2d": "padding",
}
_SKIP = {"inputlayer", "identity", "inputspec"}


def _kind(layer: Any) -> str:
    name = type(layer).__name__.lower()
    if name in _KIND_BY_CLASS:
        return _KIND_BY_CLASS[name]
    if name.startswith("random"):
        return "augment"
    return name


def leaf_layers(model: Any) -> Iterator[Any]:
    """Leaf layers/modules in definition order, nested models flattened, inputs skipped."""
    if framework_of(model) == "keras":
        def walk(layer: Any) -> Iterator[Any]:
            subs = getattr(layer, "layers", None)
            if subs and layer is not None and type(layer).__name__.lower() not in _KIND_BY_CLASS:
                for sub in subs:
                    yield from walk(sub)
            elif type(layer).__name__.lower() not in _SKIP:
                yield layer
        yield from walk(model) if getattr(model, "layers", None) else iter([model])
    else:
        for module in model.modules():
            if next(module.children(), None) is None and type(module).__name__.lower() not in _SKIP:
                yield module


def _torch_call_order(model: Any, input_shape: Sequence[int]) -> list[Any]:
    """Leaf modules in the order a forward pass calls them (each call recorded)."""
    leaves = list(leaf_layers(model))
    order: list[Any] = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod)) for m in leaves]
    try:
        forward_shape(model, input_shape)
    finally:
        for h in hooks:
            h.remove()
    return order


def layer_kinds(model: Any, input_shape: Sequence[int] | None = None) -> list[str]:
    """Normalised layer kinds, e.g. ``['conv', 'pool_max', 'flatten', 'dense']``.

    Kinds are the same across frameworks (Keras ``Conv2D`` and torch ``nn.Conv2d`` are both
    ``conv``, ``Dense``/``Linear`` are ``dense``). For torch, pass ``input_shape`` to list
    modules in the order ``forward`` calls them; without it the order is the definition order.
    Functional calls (``F.relu``) are not layers and do not appear.
    """
    if input_shape is not None and framework_of(model) == "torch":
        layers = _torch_call_order(model, input_shape)
    else:
        layers = list(leaf_layers(model))
    return [_kind(layer) for layer in layers]


def _matches(expected: str, actual: str) -> bool:
    """``pool`` matches ``pool_max``/``pool_avg``; otherwise kinds must be equal."""
    return actual == expected or actual.startswith(expected + "_")


def layer_sequence(model: Any, expected: Sequence[str], subsequence: bool = True, *,
                   input_shape: Sequence[int] | None = None,
                   question: str | None = None) -> list[str]:
    """Check the expected layer kinds appear in this order (other layers may sit in between
    when ``subsequence``; otherwise the whole sequence must match). Returns the model's kinds.
    """
    actual = layer_kinds(model, input_shape)
    expected = list(expected)
    if subsequence:
        i = 0
        for kind in actual:
            if i < len(expected) and _matches(expected[i], kind):
                i += 1
        if i == len(expected):
            return actual
        detail = f"expected layer #{i + 1} `{expected[i]}` was not found in that order"
    else:
        if len(actual) == len(expected) and all(map(_matches, expected, actual)):
            return actual
        bad = next((k for k, (e, a) in enumerate(zip(expected, actual)) if not _matches(e, a)),
                   min(len(expected), len(actual)))
        detail = (f"they differ at layer #{bad + 1}" if bad < min(len(expected), len(actual))
                  else f"expected {len(expected)} layers, got {len(actual)}")
    raise CheckFailed(f"expected layers in this order: {fmt_seq(expected)}; your model has: "
                      f"{fmt_seq(actual)}; {detail}", question=question)


def conv_layers(model: Any) -> list[tuple[tuple[int, int], tuple[int, int], Any, int]]:
    """``(kernel_size, stride, padding, filters)`` of every 2D convolution, in order.

    Keras padding is ``'same'``/``'valid'``; torch padding is an ``(h, w)`` tuple or a string.
    """
    out = []
    if framework_of(model) == "keras":
        for layer in leaf_layers(model):
            if type(layer).__name__ in ("Conv2D", "SeparableConv2D", "Convolution2D"):
                out.append((tuple(layer.kernel_size), tuple(layer.strides), layer.padding,
                            int(layer.filters)))
    else:
        import torch
        for module in leaf_layers(model):
            if isinstance(module, torch.nn.Conv2d):
                pad = module.padding if isinstance(module.padding, str) else tuple(module.padding)
                out.append((tuple(module.kernel_size), tuple(module.stride), pad,
                            int(module.out_channels)))
    return out
