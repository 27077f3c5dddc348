"""A model's layer graph as plain data: which layer feeds which, with the facts structural checks read.

Keras: the functional graph (``layer._inbound_nodes``); PyTorch: a ``torch.fx`` trace. Each node is
``{"id", "op", "class", "kernel", "inputs"}`` with ``op`` one of ``input``, ``conv``, ``pool``,
``concat``, ``add`` or ``other``. The judge reads branches and modules from it; nothing here decides.
"""
from __future__ import annotations

from typing import Any

CONV = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2d")
POOL = ("MaxPooling2D", "AveragePooling2D", "MaxPool2d", "AvgPool2d")
MAX_NODES = 5000


def _pair(value: Any, default: Any = None) -> list[int] | None:
    """A kernel size or stride as ``[h, w]`` (``default`` when it is None; None when it is no size)."""
    value = default if value is None else value
    if value is None:
        return None
    if isinstance(value, int):
        return [value, value]
    try:
        return [int(v) for v in value][:2]
    except (TypeError, ValueError):
        return None


def _kind(class_name: str) -> str:
    if class_name in CONV:
        return "conv"
    if class_name in POOL:
        return "pool"
    if class_name in ("Concatenate",):
        return "concat"
    if class_name in ("Add",):
        return "add"
    if class_name == "InputLayer":
        return "input"
    return "other"


def keras_graph(model: Any) -> dict[str, Any]:
    nodes = []
    for layer in model.layers[:MAX_NODES]:
        name = type(layer).__name__
        inputs = sorted({p.operation.name for node in layer._inbound_nodes for p in node.parent_nodes
                         if getattr(p, "operation", None) is not None})
        kernel = getattr(layer, "kernel_size", None) if name in CONV else getattr(layer, "pool_size", None)
        nodes.append({"id": layer.name, "op": _kind(name), "class": name, "kernel": _pair(kernel), "inputs": inputs})
    if model.layers and not any(n["inputs"] for n in nodes) and len(nodes) > 1:
        raise ValueError("this Keras model has no functional graph (a subclassed model): build the module with "
                         "the functional API (branches joined by layers.Concatenate) so its branches can be read")
    opaque = [layer.name for layer in model.layers[:MAX_NODES] if _kind(type(layer).__name__) == "other"
              and any(True for _ in layer._flatten_layers(include_self=False, recursive=False))]
    return {"framework": "keras", "nodes": nodes, "opaque": opaque[:20]}


def torch_graph(model: Any) -> dict[str, Any]:
    import torch
    import torch.fx

    try:
        traced = torch.fx.symbolic_trace(model)
    except Exception as err:
        raise ValueError(f"torch.fx could not trace your model's forward ({type(err).__name__}): keep forward free of "
                         "data-dependent if/for so its layer graph can be read") from None
    modules = dict(traced.named_modules())
    nodes = []
    for node in list(traced.graph.nodes)[:MAX_NODES]:
        inputs = sorted({a.name for a in node.all_input_nodes})
        op, name, kernel = "other", str(node.target), None
        if node.op == "placeholder":
            op, name = "input", "input"
        elif node.op == "call_module":
            module = modules.get(node.target)
            name = type(module).__name__
            op = _kind(name)
            kernel = _pair(getattr(module, "kernel_size", None))
        elif node.op in ("call_function", "call_method"):
            fn = getattr(node.target, "__name__", str(node.target))
            name = fn
            if fn in ("cat", "concat", "concatenate"):
                op = "concat"
            elif fn in ("max_pool2d", "avg_pool2d"):
                op = "pool"
                size = node.kwargs.get("kernel_size", node.args[1] if len(node.args) > 1 else None)
                kernel = _pair(size) if isinstance(size, (int, tuple, list)) else None
            elif fn in ("add", "iadd") or node.target is torch.add:
                op = "add"
        nodes.append({"id": node.name, "op": op, "class": name, "kernel": kernel, "inputs": inputs})
    return {"framework": "torch", "nodes": nodes}


def export(model: Any, framework: str) -> dict[str, Any]:
    return keras_graph(model) if framework == "keras" else torch_graph(model)
