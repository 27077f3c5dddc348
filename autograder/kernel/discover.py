"""Find what a question grades in a notebook's namespace: the conventional name first, then by kind.

Every finder returns a :class:`Found` (the object, the name it was found under, and a sentence
for the feedback) or raises :class:`NotFound` whose message names what was looked for and the
candidates when several fit equally well.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from . import training


class NotFound(LookupError):
    """Nothing (or nothing unambiguous) of the kind a check needs."""


@dataclass
class Found:
    name: str
    obj: Any
    how: str          # "the name `model`", "the only Keras model", ...


def _public(ns: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for name, value in list(ns.items()):
        if not name.startswith("_") and name not in {"In", "Out", "exit", "quit", "get_ipython"}:
            yield name, value


# ----------------------------------------------------------------------------- models
def framework(obj: Any) -> str | None:
    """"keras" for a Keras model, "torch" for an nn.Module with parameters, else None."""
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            if isinstance(obj, keras.Model):
                return "keras"
        except Exception:
            pass
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        try:
            if next(obj.parameters(), None) is not None:
                return "torch"
        except Exception:
            return None
    return None


def _submodules(obj: Any, kind: str) -> set[int]:
    try:
        if kind == "torch":
            return {id(m) for m in obj.modules() if m is not obj}
        return {id(layer) for layer in obj._flatten_layers(include_self=False)}
    except Exception:
        return set()


def count_params(obj: Any, kind: str) -> int:
    if kind == "keras":
        try:
            return int(obj.count_params())
        except Exception:
            return 0
    return int(sum(p.numel() for p in obj.parameters()))


def describe_model(found: Found) -> str:
    kind = framework(found.obj) or "?"
    label = "Keras" if kind == "keras" else "PyTorch"
    n = count_params(found.obj, kind)
    return f"your model `{found.name}` ({label} {type(found.obj).__name__}, {n:,} parameters; {found.how})"


def model(ns: Mapping[str, Any], *, names: tuple[str, ...] = ("model",),
          fits: Callable[[Any], bool] | None = None) -> Found:
    """The model to grade: a conventional name, else the only model, else the one trained last,
    else the only one whose output fits the task (``fits``)."""
    for name in names:
        if name in ns and framework(ns[name]):
            return Found(name, ns[name], f"found under the name `{name}`")
    candidates = [(name, value, framework(value)) for name, value in _public(ns) if framework(value)]
    unique, seen = [], set()
    for name, value, kind in candidates:
        if id(value) not in seen:
            seen.add(id(value))
            unique.append((name, value, kind))
    inner = set().union(*[_submodules(v, k) for _, v, k in unique]) if unique else set()
    top = [(n, v, k) for n, v, k in unique if id(v) not in inner]
    if not top:
        raise NotFound("no model found: expected a Keras model or a PyTorch nn.Module "
                       f"(conventionally named `{names[0]}`) in your answer")
    if len(top) == 1:
        name, value, kind = top[0]
        return Found(name, value, f"the only {'Keras model' if kind == 'keras' else 'nn.Module'} in the notebook")
    ticks = {n: training.last_trained(v) for n, v, _ in top}
    latest = max(ticks.values())
    trained_last = [(n, v) for n, v, _ in top if ticks[n] == latest]
    if latest > 0 and len(trained_last) == 1:
        return Found(*trained_last[0], "the model trained last")
    pool = trained_last if latest > 0 else [(n, v) for n, v, _ in top]
    if fits is not None:
        fitting = [(n, v) for n, v in pool if _safe(fits, v)]
        if len(fitting) == 1:
            return Found(*fitting[0], "the only model whose output fits the task")
    listed = ", ".join(f"`{n}`" for n, _ in pool)
    raise NotFound(f"several models could be the answer ({listed}) and none is clearly the one trained "
                   f"last: name the one to grade `{names[0]}`")


def _safe(fn: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(fn(value))
    except Exception:
        return False


# ----------------------------------------------------------------------------- histories
def _metric_table(value: Any) -> dict[str, list] | None:
    table = getattr(value, "history", None)
    if isinstance(table, dict) and table and type(value).__name__ == "History":
        return table
    if isinstance(value, dict) and value and all(isinstance(v, (list, tuple)) for v in value.values()):
        if any(str(k).lower().replace("val_", "").replace("train_", "") in ("loss", "acc", "accuracy")
               for k in value):
            return {str(k): list(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(e, dict) for e in value):
        keys = {k for e in value for k in e}
        if any(str(k).lower() in ("loss", "acc", "accuracy", "val_accuracy", "val_acc", "train_loss") for k in keys):
            return {str(k): [e[k] for e in value if k in e] for k in keys}
    return None


def history(ns: Mapping[str, Any], *, names: tuple[str, ...] = ("history",)) -> tuple[Found, dict[str, list]]:
    """The training history: ``history`` first, else a Keras History or a dict/list of per-epoch metrics."""
    for name in names:
        table = _metric_table(ns.get(name))
        if table is not None:
            return Found(name, ns[name], f"found under the name `{name}`"), table
    found = [(n, v, t) for n, v in _public(ns) if (t := _metric_table(v)) is not None]
    if not found:
        raise NotFound("no training history found: keep the return value of `fit` "
                       "(`history = model.fit(...)`) or a dict of per-epoch lists")
    longest = max(len(next(iter(t.values()), [])) for _, _, t in found)
    name, value, table = [f for f in found if len(next(iter(f[2].values()), [])) == longest][-1]
    return Found(name, value, "a training history found by kind"), table


# ----------------------------------------------------------------------------- data
def _base_dataset(dataset: Any) -> Any:
    seen = 0
    while hasattr(dataset, "dataset") and seen < 10:   # Subset, wrappers
        dataset = dataset.dataset
        seen += 1
    return dataset


def loaders(ns: Mapping[str, Any]) -> dict[str, Found]:
    """The torch DataLoaders by split ("train", "test"): by their dataset's ``train`` flag, else size."""
    torch = sys.modules.get("torch")
    if torch is None:
        raise NotFound("no DataLoader found: torch is not imported")
    DataLoader = torch.utils.data.DataLoader
    found = {}
    for name, value in _public(ns):
        if isinstance(value, DataLoader) and id(value) not in {id(f.obj) for f in found.values()}:
            found[name] = Found(name, value, "")
    if not found:
        raise NotFound("no torch.utils.data.DataLoader found in your answer")
    split: dict[str, Found] = {}
    for conventional, which in (("train_loader", "train"), ("test_loader", "test")):
        if conventional in found:
            split[which] = Found(conventional, found[conventional].obj, f"found under the name `{conventional}`")
    for f in found.values():
        flag = getattr(_base_dataset(f.obj.dataset), "train", None)
        if isinstance(flag, bool):
            which = "train" if flag else "test"
            if which not in split:
                split[which] = Found(f.name, f.obj, f"its dataset is the {which} split")
    rest = [f for f in found.values() if all(f.obj is not s.obj for s in split.values())]
    if rest and ("train" not in split or "test" not in split):
        sized = sorted(rest, key=lambda f: _len(f.obj.dataset))
        if "test" not in split and len(sized) >= (1 if "train" in split else 2):
            split["test"] = Found(sized[0].name, sized[0].obj, "the smaller dataset")
            sized = sized[1:]
        if "train" not in split and sized:
            split["train"] = Found(sized[-1].name, sized[-1].obj, "the larger dataset")
    return split


def _len(dataset: Any) -> int:
    try:
        return len(dataset)
    except Exception:
        return 0


def flow_iterators(ns: Mapping[str, Any]) -> dict[str, Found]:
    """``flow_from_directory`` iterators by role ("train", "val")."""
    its = [(n, v) for n, v in _public(ns) if hasattr(v, "class_indices") and hasattr(v, "image_data_generator")]
    if not its:
        raise NotFound("no iterator from ImageDataGenerator.flow_from_directory found in your answer")
    out: dict[str, Found] = {}
    for name in ("train_gen", "train_generator", "train_it", "train_data"):
        if name in ns and hasattr(ns[name], "class_indices"):
            out["train"] = Found(name, ns[name], f"found under the name `{name}`")
    for name, value in its:
        subset = getattr(value, "subset", None)
        if subset == "training" and "train" not in out:
            out["train"] = Found(name, value, "the iterator of the training subset")
        elif subset == "validation" and "val" not in out:
            out["val"] = Found(name, value, "the iterator of the validation subset")
    if "train" not in out:
        name, value = max(its, key=lambda nv: getattr(nv[1], "samples", 0))
        out["train"] = Found(name, value, "the iterator with the most images")
    return out


def arrays(ns: Mapping[str, Any], rows: int, per_sample: int | None = None) -> list[Found]:
    """NumPy arrays (or tensors) with ``rows`` rows, optionally ``per_sample`` values per row."""
    import numpy as np
    out = []
    for name, value in _public(ns):
        shape = getattr(value, "shape", None)
        if shape is None or not hasattr(value, "dtype"):
            continue
        try:                      # `shape` may be anything: `import numpy as np` puts np.shape in the namespace
            if len(shape) < 2 or int(shape[0]) != rows:
                continue
            size = int(np.prod([int(d) for d in shape[1:]]))
        except Exception:
            continue
        if per_sample is None or size in (per_sample, 3 * per_sample):
            out.append(Found(name, value, ""))
    return out


REPORTED = ("test_accuracy", "test_acc", "accuracy", "acc", "test_score", "score", "scores", "results")


def reported_accuracy(ns: Mapping[str, Any]) -> tuple[str, float] | None:
    """The accuracy the answer reports: a fraction or a percentage, or ``[loss, accuracy]`` from evaluate."""
    for name in REPORTED:
        value = ns.get(name)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, (list, tuple)) and len(value) == 2:
            value = value[1]
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if 1.0 < number <= 100.0:
            number /= 100.0
        if 0.0 <= number <= 1.0:
            return name, number
    return None


TIME_NAMES = ("training_time", "train_time", "training_seconds", "train_seconds", "elapsed", "elapsed_time",
              "duration", "train_duration", "training_duration", "time_taken")
NOT_TRAINING = ("per", "epoch", "eval", "test", "infer", "predict", "start", "begin", "end", "stop")


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    total = getattr(value, "total_seconds", None)          # datetime.timedelta
    try:
        number = float(total() if callable(total) else value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0.0 < number < 1e6 else None


def _timelike(name: str) -> bool:
    low = name.lower()
    if any(w in low for w in NOT_TRAINING):
        return False
    return any(w in low for w in ("time", "elapsed", "duration", "seconds", "secs")) or low.startswith("t_") \
        or low.endswith("_t")


def reported_seconds(ns: Mapping[str, Any]) -> tuple[str, float] | None:
    """The training time the answer reports, in seconds: ``training_time``, else the only time-like
    number whose name speaks of training (``t_train``, ``train_time_s``), else another conventional
    name, else the only time-like number (never ``time_per_epoch``, ``eval_time``, ``start_time``)."""
    found = [(n, s) for n, v in _public(ns) if _timelike(n) and not callable(v) and (s := _seconds(v)) is not None]
    by_name = dict(found)
    if "training_time" in by_name:
        return "training_time", by_name["training_time"]
    trained = [(n, s) for n, s in found if "train" in n.lower() or "fit" in n.lower()]
    if len(trained) == 1:
        return trained[0]
    for name in TIME_NAMES:
        if name in by_name:
            return name, by_name[name]
    return found[0] if len(found) == 1 else None
