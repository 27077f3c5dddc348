"""Which model was trained, when, and for how long: recorded as training happens, read by discovery.

Keras: ``Model.fit`` is wrapped (its calls are timed and summed); PyTorch: a global optimizer step
hook notes, per parameter, the tick of its last step and the time spent between its steps (a gap of
more than ``MAX_GAP_S`` between two steps counts as one typical step: training resumed later is
not time spent training). Discovery grades the model trained last when a notebook holds several.
"""
from __future__ import annotations

import itertools
import sys
import time
import weakref
from typing import Any

MAX_GAP_S = 30.0
_clock = itertools.count(1)
_keras_fits: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()
_keras_seconds: "weakref.WeakKeyDictionary[Any, float]" = weakref.WeakKeyDictionary()
_keras_stages: "weakref.WeakKeyDictionary[Any, list[dict[str, Any]]]" = weakref.WeakKeyDictionary()
MAX_STAGES = 20


class _Steps:
    """One parameter's optimizer steps (held by id, checked against a weak reference: ids are reused)."""
    __slots__ = ("ref", "tick", "first", "last", "seconds", "count")

    def __init__(self, param: Any, now: float) -> None:
        self.ref = weakref.ref(param)
        self.tick, self.first, self.last, self.seconds, self.count = 0, now, now, 0.0, 0


_torch_steps: dict[int, _Steps] = {}


def track_keras(keras_module) -> None:
    model_cls = keras_module.Model
    original = model_cls.fit
    if getattr(original, "_autograder_tracked", False):
        return

    def fit(self, *args, **kwargs):
        stage = None
        try:
            stages = _keras_stages.setdefault(self, [])
            if len(stages) < MAX_STAGES:
                stage = _stage(self, args[0] if args else kwargs.get("x"))
                stage["class_weight"] = _class_weight(kwargs.get("class_weight"))
                stages.append(stage)
        except Exception:
            pass
        started = time.perf_counter()
        try:
            result = original(self, *args, **kwargs)
            if stage is not None:
                stage["completed"] = True
            return result
        finally:
            try:
                _keras_fits[self] = next(_clock)
                _keras_seconds[self] = _keras_seconds.get(self, 0.0) + time.perf_counter() - started
            except TypeError:
                pass

    fit._autograder_tracked = True
    fit.__doc__ = original.__doc__
    model_cls.fit = fit


def _class_weight(value: Any) -> dict[str, float] | None:
    """``fit(class_weight={0: 2.6, 1: 0.7, ...})`` as plain numbers (None when not given or unreadable)."""
    if not isinstance(value, dict):
        return None
    try:
        return {str(int(k)): float(v) for k, v in list(value.items())[:1000]}
    except Exception:
        return None


def _layer_of(path: str) -> str:
    """``"vgg16/block5_conv1/kernel"`` -> ``"block5_conv1"``."""
    parts = str(path).split("/")
    return parts[-2] if len(parts) >= 2 else parts[0]


def _iterator_batch(it: Any) -> Any:
    """A few images of a ``flow_from_directory`` iterator as it prepares them, leaving its state (and the
    global NumPy RNG its shuffling uses) as they were."""
    import numpy as np
    state = np.random.get_state()
    saved = {k: getattr(it, k, None) for k in ("index_array", "batch_index", "total_batches_seen")}
    try:
        return it[0][0][:16]
    finally:
        np.random.set_state(state)
        for k, v in saved.items():
            setattr(it, k, v)


def _input_stats(x: Any) -> dict[str, float] | None:
    """Value range of the first training images (an array, a ``flow_from_directory`` iterator or a
    ``tf.data.Dataset`` of (images, labels))."""
    import numpy as np
    if hasattr(x, "class_indices") and hasattr(x, "__getitem__"):
        x = _iterator_batch(x)
    elif hasattr(x, "take") and hasattr(x, "element_spec"):          # tf.data: re-iterable, no side effects
        first = next(iter(x.take(1)))
        x = first[0] if isinstance(first, (tuple, list)) else first
        x = x.numpy()[:16]
    elif isinstance(x, (list, tuple)):
        return None
    try:
        sample = np.asarray(x[:16], dtype="float32")
    except Exception:
        return None
    if sample.size == 0:
        return None
    return {"min": float(sample.min()), "max": float(sample.max()), "mean": float(sample.mean())}


def _stage(model: Any, x: Any) -> dict[str, Any]:
    """What one ``fit`` call trains: parameter counts, the layers with trainable weights, the learning rate."""
    import numpy as np
    size = lambda weights: int(sum(int(np.prod(w.shape)) for w in weights))
    try:
        lr = float(np.asarray(model.optimizer.learning_rate))
    except Exception:
        lr = None
    return {"trainable": size(model.trainable_weights), "frozen": size(model.non_trainable_weights),
            "trainable_layers": sorted({_layer_of(getattr(w, "path", w.name)) for w in model.trainable_weights}),
            "lr": lr, "inputs": _input_stats(x)}


def keras_stages(model: Any) -> list[dict[str, Any]]:
    """One entry per completed ``fit`` call of ``model``, in order (what was trainable, at which learning rate)."""
    try:
        return [s for s in _keras_stages.get(model, []) if s.get("completed")]   # a fit that raised trained nothing
    except TypeError:
        return []


def keras_class_weights() -> list[dict[str, float]]:
    """The ``class_weight`` of every completed ``fit`` that was given one (any model)."""
    found = []
    for stages in list(_keras_stages.values()):
        found += [s["class_weight"] for s in stages if s.get("completed") and s.get("class_weight")]
    return found


def _step(param: Any, tick: int, now: float) -> None:
    entry = _torch_steps.get(id(param))
    if entry is None or entry.ref() is not param:
        entry = _torch_steps[id(param)] = _Steps(param, now)
    elif entry.count:
        gap = now - entry.last
        entry.seconds += gap if gap <= MAX_GAP_S else entry.seconds / entry.count
    entry.tick, entry.last, entry.count = tick, now, entry.count + 1


def track_torch(optim_module) -> None:
    # torch.optim deletes its `optimizer` attribute: the module is found in sys.modules
    register = getattr(sys.modules.get("torch.optim.optimizer"), "register_optimizer_step_post_hook", None)
    if register is None:
        return

    def after_step(optimizer, args, kwargs) -> None:
        tick, now = next(_clock), time.perf_counter()
        for group in optimizer.param_groups:
            for p in group["params"]:
                if getattr(p, "grad", None) is None:    # frozen (or unused): the step left it as it was
                    continue
                try:
                    _step(p, tick, now)
                except TypeError:       # not weak-referenceable: not a tensor
                    pass

    register(after_step)
    track_torch_evaluation()


# A Dropout layer's last evaluation pass (in eval mode, or in training mode without gradients): its tick and
# whether it was in training mode (model.eval() not called). The kit's own forward passes are not recorded (:func:`paused`).
_dropout_passes: "weakref.WeakKeyDictionary[Any, tuple[int, bool]]" = weakref.WeakKeyDictionary()
_paused = [0]


def track_torch_evaluation() -> None:
    torch = sys.modules.get("torch")
    register = getattr(getattr(getattr(torch, "nn", None), "modules", None), "module", None)
    register = getattr(register, "register_module_forward_pre_hook", None)
    if register is None or getattr(track_torch_evaluation, "_installed", False):
        return

    def before(module, args) -> None:
        # an evaluation: any pass in eval mode, or a train-mode pass without gradients (eval() forgotten)
        if _paused[0] or "Dropout" not in type(module).__name__ or (module.training and torch.is_grad_enabled()):
            return None
        try:
            _dropout_passes[module] = (next(_clock), bool(module.training))
        except TypeError:
            pass
        return None

    register(before)
    track_torch_evaluation._installed = True


class paused:
    """A context in which the kit's own forward passes are not taken for the answer's evaluation."""

    def __enter__(self) -> None:
        _paused[0] += 1

    def __exit__(self, *exc: Any) -> None:
        _paused[0] -= 1


def last_evaluation(model: Any) -> dict[str, Any] | None:
    """The answer's last evaluation pass of ``model`` (eval mode, or train mode without gradients), seen at its Dropout layers: whether
    they were in training mode, and how many such passes were seen (None: none was seen)."""
    try:
        seen = [_dropout_passes[m] for m in model.modules() if m in _dropout_passes]
    except Exception:
        return None
    if not seen:
        return None
    tick, training = max(seen)
    return {"training": training, "layers": len(seen)}


MAX_LOSS_WEIGHTS = 8
_loss_weights: list[dict[str, Any]] = []     # distinct class-weight vectors backward ran through
_weight_cache: dict[tuple[int, int], list[float]] = {}


def _values(weight: Any) -> list[float] | None:
    """The weight as numbers, copied once per tensor version (no device sync on every batch)."""
    key = (id(weight), int(getattr(weight, "_version", 0)))
    if key not in _weight_cache:
        if len(_weight_cache) > 64:
            _weight_cache.clear()
        try:
            _weight_cache[key] = [float(v) for v in weight.detach().cpu().reshape(-1).tolist()][:1000]
        except Exception:
            return None
    return _weight_cache[key]


def _note_loss_weight(loss: str, values: list[float]) -> None:
    for entry in _loss_weights:
        if entry["weight"] == values and entry["loss"] == loss:
            entry["calls"] += 1
            return
    if len(_loss_weights) < MAX_LOSS_WEIGHTS:
        _loss_weights.append({"loss": loss, "weight": values, "calls": 1, "tick": next(_clock)})


def track_torch_losses(torch_module) -> None:
    """A global forward hook on loss modules (``nn.CrossEntropyLoss(weight=...)``, ``nn.NLLLoss``): a class
    weight is noted when backward runs through the loss, so only weights that trained count. The modules
    themselves are left as they are (TorchScript still compiles them)."""
    modules = getattr(getattr(torch_module, "nn", None), "modules", None)
    register = getattr(getattr(modules, "module", None), "register_module_forward_hook", None)
    weighted = getattr(getattr(modules, "loss", None), "_WeightedLoss", None)
    if register is None or weighted is None:
        return

    def after_forward(module, args, output) -> None:
        if not isinstance(module, weighted):
            return
        weight = getattr(module, "weight", None)
        if weight is None or not getattr(output, "requires_grad", False):
            return
        values = _values(weight)
        if values is None:
            return
        name = type(module).__name__

        def on_backward(grad):
            _note_loss_weight(name, values)
            return grad
        try:
            output.register_hook(on_backward)
        except Exception:
            pass

    register(after_forward)


def loss_weights() -> list[dict[str, Any]]:
    """The class weights given to a PyTorch loss during training, in the order first seen."""
    return [dict(e) for e in _loss_weights]


def _torch_entries(model: Any) -> list[_Steps]:
    params = getattr(model, "parameters", None)
    if not callable(params) or not _torch_steps:
        return []
    try:
        return [e for p in params() if (e := _torch_steps.get(id(p))) is not None and e.ref() is p]
    except Exception:
        return []


def last_trained(model: Any) -> int:
    """Tick of the model's last training (0: never seen training)."""
    try:
        if model in _keras_fits:
            return _keras_fits[model]
    except TypeError:
        pass
    entries = _torch_entries(model)
    if entries:
        return max(e.tick for e in entries)
    opt = getattr(model, "optimizer", None)     # a Keras model trained with a custom loop
    try:
        return 1 if opt is not None and int(opt.iterations.numpy()) > 0 else 0
    except Exception:
        return 0


def seconds_trained(model: Any) -> float | None:
    """Wall seconds the grader saw ``model`` train: the sum of its ``fit`` calls (Keras), or the time
    between its parameters' optimizer steps plus one typical step (PyTorch). None: never seen."""
    try:
        if model in _keras_seconds:
            return _keras_seconds[model]
    except TypeError:
        pass
    entries = _torch_entries(model)
    if not entries:
        return None
    longest = max(entries, key=lambda e: e.seconds)
    return longest.seconds + (longest.seconds / max(longest.count - 1, 1))
