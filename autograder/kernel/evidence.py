"""What a grade cell does: measure the answer and write the evidence; the verdict is made outside.

A grade cell calls ``check("cnn_foundations.q6.model")``. Inside a grading kernel this looks up
what that check must measure (inputs only, from the runner's requests file), finds the object by
name or by kind (:mod:`.discover`), and writes ``<check>.json`` (plus arrays) into the evidence
folder. It never raises for a verdict: the judge, outside the sandbox, holds the labels, the
expected values and the thresholds. In a student's own Jupyter, :func:`check` runs the visible
part of the same check at once (self-check).
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from . import discover, env, figures, graph
from .discover import NotFound

MAX_CASES = 500


def check(check_id: str, ns: Mapping[str, Any] | None = None, *, hidden: bool = False) -> None:
    """Measure the answer for ``check_id`` (the caller's globals unless ``ns`` is given)."""
    ns = ns if ns is not None else sys._getframe(1).f_globals
    key = check_id + ("#hidden" if hidden else "")
    if not env.grading():
        from autograder.judge import local       # a student's own environment: judge here, now
        local.self_check(check_id, ns, hidden=hidden)
        return
    requests = env.read_json(env.REQUESTS) or {}
    request = requests.get(key)
    if request is None:
        print(f"[{check_id}] nothing to measure here")
        return
    folder = Path(os.environ[env.EVIDENCE])
    evidence = collect(key, request, ns, folder)
    write(folder, key, evidence)
    for line in evidence.get("shown", []):
        print(f"[{check_id}] {line}")


def collect(key: str, request: Mapping[str, Any], ns: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Run the collector for ``request['kind']``; an error becomes part of the evidence."""
    collector = COLLECTORS[request["kind"]]
    try:
        return collector(request, ns, folder / _safe_name(key))
    except NotFound as err:
        return {"missing": str(err), "shown": [str(err)]}
    except Exception as err:
        return {"error": _short(err), "shown": [f"measuring your answer failed: {_short(err)}"]}


def write(folder: Path, key: str, evidence: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_safe_name(key)}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(evidence, default=_jsonable))
    tmp.replace(target)


def _safe_name(key: str) -> str:
    return key.replace("#", "__").replace("/", "_")


def _jsonable(value: Any) -> Any:
    try:
        return float(value)
    except Exception:
        return repr(value)[:200]


def _short(err: BaseException, limit: int = 300) -> str:
    text = f"{type(err).__name__}: {err}".strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- functions
def _value(result: Any) -> Any:
    if isinstance(result, bool):
        return {"bool": result}
    if isinstance(result, (int, float)):
        return result if math.isfinite(float(result)) else str(result)
    if hasattr(result, "tolist"):
        return result.tolist()
    if isinstance(result, (tuple, list)):
        return [_value(r) for r in result]
    if isinstance(result, str):
        return {"str": result[:200]}
    if isinstance(result, dict) and len(result) <= 20:
        return {"dict": {str(k)[:50]: _value(v) for k, v in result.items()}}
    return {"repr": repr(result)[:100]}


def function_values(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The student's function on the requested inputs (values or the error each raised)."""
    name = request["function"]
    fn = ns.get(name)
    if not callable(fn):
        raise NotFound(f"no function `{name}` defined (check the spelling and run its cell)")
    values = []
    for args in request["cases"][:MAX_CASES]:
        try:
            values.append({"value": _value(fn(*args))})
        except Exception as err:
            values.append({"error": _short(err, 120)})
    return {"function": name, "values": values}


def random_input(case: Mapping[str, Any]) -> Any:
    """The input of a generated case (``shape``, ``seed``, ``ints``): drawn here as the judge draws it."""
    import numpy as np
    rng = np.random.default_rng(int(case["seed"]))
    shape = tuple(int(d) for d in case["shape"])
    return rng.integers(-9, 10, size=shape).astype("float64") if case.get("ints") else rng.standard_normal(shape)


def array_values(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """An array-valued function (e.g. pooling) on inputs from the requests file, or on inputs drawn from
    each case's seed (``{"shape", "seed", "args"}``: ``fn(x, *args)``): outputs saved as .npz."""
    import numpy as np
    name = request["function"]
    fn = ns.get(name)
    if not callable(fn):
        raise NotFound(f"no function `{name}` defined (check the spelling and run its cell)")
    if "inputs" not in request:
        outputs, errors = {}, {}
        for i, case in enumerate(request["cases"][:MAX_CASES]):
            try:
                out = np.asarray(fn(random_input(case), *case.get("args", [])), dtype="float64")
                if out.size > 10**6:
                    raise ValueError(f"an output of {out.size:,} values for a small input")
                outputs[f"c{i}"] = out
            except Exception as err:
                errors[str(i)] = _short(err, 120)
        np.savez(f"{stem}.npz", **outputs)
        return {"function": name, "errors": errors, "arrays": f"{stem.name}.npz",
                "shown": [f"ran your `{name}` on {len(request['cases'])} test inputs"]}
    inputs = np.load(Path(os.environ[env.DATA]) / request["inputs"], allow_pickle=False)
    outputs, errors = {}, {}
    for i, kwargs in enumerate(request["cases"][:MAX_CASES]):
        try:
            outputs[f"c{i}"] = np.asarray(fn(inputs[f"c{i}"], **kwargs), dtype="float64")
        except Exception as err:
            errors[str(i)] = _short(err, 120)
    np.savez(f"{stem}.npz", **outputs)
    return {"function": name, "errors": errors, "arrays": f"{stem.name}.npz"}


# ----------------------------------------------------------------------------- models
def _first_output(out: Any) -> Any:
    if hasattr(out, "logits"):
        return out.logits
    if isinstance(out, dict):
        return next(iter(out.values()))
    if isinstance(out, (tuple, list)):
        return out[0]
    return out


def _torch_device(model: Any) -> Any:
    for p in model.parameters():
        return p.device
    return "cpu"


def forward(model: Any, x: Any) -> Any:
    """Outputs of ``model`` on the NumPy batch ``x`` (eval mode, no gradients), as NumPy."""
    import numpy as np
    if discover.framework(model) == "keras":
        out = _first_output(model(x, training=False))
        return np.asarray(out)
    import torch

    from .training import paused
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), paused():
            out = _first_output(model(torch.as_tensor(x, dtype=torch.float32).to(_torch_device(model))))
    finally:
        model.train(was_training)
    return out.float().cpu().numpy()


def _output_shape(model: Any, input_shape: list[int]) -> list[int] | str:
    import numpy as np
    try:
        return [int(d) for d in forward(model, np.zeros(input_shape, dtype="float32")).shape]
    except Exception as err:
        return f"calling the model on an input of shape {tuple(input_shape)} failed with {_short(err)}"


def _layers(model: Any, kind: str) -> list[dict[str, Any]]:
    """Leaf layers in order: class name and the facts the structural checks read."""
    layers = []
    if kind == "keras":
        try:
            leaves = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
                      if not list(layer._flatten_layers(include_self=False, recursive=False))]
        except Exception:
            leaves = list(getattr(model, "layers", []))
        for layer in leaves:
            cfg = {}
            for attr in ("filters", "kernel_size", "strides", "pool_size", "units", "rate", "padding"):
                v = getattr(layer, attr, None)
                if v is not None:
                    cfg[attr] = list(v) if isinstance(v, tuple) else v
            act = getattr(layer, "activation", None)
            if act is not None:
                cfg["activation"] = getattr(act, "__name__", str(act))
            layers.append({"class": type(layer).__name__, **cfg})
        return layers
    for module in model.modules():
        if next(module.children(), None) is not None:
            continue
        cfg = {}
        for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "in_features",
                     "out_features", "p"):
            v = getattr(module, attr, None)
            if v is not None and not callable(v):
                cfg[attr] = list(v) if isinstance(v, tuple) else v
        layers.append({"class": type(module).__name__, **cfg})
    return layers


def _weights(model: Any, kind: str, path: Path) -> dict[str, Any]:
    """Save every parameter (and Keras non-trainable weight) in order as .npz; return its index."""
    import numpy as np
    arrays, index = {}, []
    if kind == "keras":
        for i, w in enumerate(model.weights):
            arrays[f"w{i:04d}"] = np.asarray(w.numpy())
            index.append({"name": w.path if hasattr(w, "path") else w.name, "trainable": bool(w.trainable)})
    else:
        for i, (name, p) in enumerate(model.named_parameters()):
            arrays[f"w{i:04d}"] = p.detach().float().cpu().numpy()
            index.append({"name": name, "trainable": bool(p.requires_grad)})
    np.savez(path, **arrays)
    return {"file": path.name, "index": index}


def _input_shape(model: Any, kind: str, request: Mapping[str, Any]) -> list[int]:
    """The probe input: ``input_shape`` as requested, or (``image``: sizes and channels, the student's
    choice of framework and input size) the first size the model accepts, laid out for its framework."""
    if "input_shape" in request:
        return list(request["input_shape"])
    image = request["image"]
    counts = image["channels"] if isinstance(image["channels"], list) else [image["channels"]]
    shapes = [[1, s, s, int(c)] if kind == "keras" else [2, int(c), s, s] for s in image["sizes"] for c in counts]
    for shape in shapes:
        if isinstance(_output_shape(model, shape), list):
            return shape
    return shapes[0]


def _fits(request: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """Does a candidate model's output fit the task (its class count on the requested input)?"""
    classes = request.get("classes")
    if not classes or not ("input_shape" in request or "image" in request):
        return None

    def fits(candidate: Any) -> bool:
        out = _output_shape(candidate, _input_shape(candidate, discover.framework(candidate) or "torch", request))
        return isinstance(out, list) and out[-1] == classes
    return fits


def model_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """Which model is graded, its output shape on the requested input, its layers and its weights."""
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    shape = _input_shape(found.obj, kind, request)
    facts: dict[str, Any] = {"name": found.name, "how": found.how, "framework": kind,
                             "class": type(found.obj).__name__,
                             "subclassed": kind == "keras" and type(found.obj).__name__ not in ("Sequential", "Functional"),
                             "params": discover.count_params(found.obj, kind),
                             "output_shape": _output_shape(found.obj, shape), "input_shape": list(shape),
                             "layers": _layers(found.obj, kind),
                             "weights": _weights(found.obj, kind, Path(f"{stem}.weights.npz")),
                             "shown": [f"graded {discover.describe_model(found)}"]}
    return facts


# ----------------------------------------------------------------------------- predictions
def _served_test(dataset: str):
    import numpy as np
    with np.load(Path(os.environ[env.DATA]) / f"{dataset}.npz", allow_pickle=False) as f:
        return f["x_test"]


def _affine_match(candidate: Any, raw: Any) -> tuple[float, float] | None:
    """``(a, b)`` with ``candidate ≈ a * raw + b`` (the student's scaling of the served test split)."""
    import numpy as np
    c = np.asarray(candidate, dtype="float64").reshape(len(candidate), -1)
    r = np.asarray(raw, dtype="float64").reshape(len(raw), -1)
    if c.shape[1] == 3 * r.shape[1]:          # grayscale repeated to RGB
        c = c.reshape(len(c), -1, 3)[..., 0]
    if c.shape != r.shape:
        return None
    sample = slice(0, min(len(c), 200))
    x, y = r[sample].ravel(), c[sample].ravel()
    var = x.var()
    if var == 0:
        return None
    a = float(((x - x.mean()) * (y - y.mean())).mean() / var)
    b = float(y.mean() - a * x.mean())
    if np.abs(a * x + b - y).max() > 1e-3 * max(1.0, np.abs(y).max()):
        return None
    return a, b


def _padding(candidate: Any, raw: Any) -> int:
    """The zero-padding ``p`` of a padded copy of the test split (28x28 digits padded to 32x32: 2)."""
    import numpy as np
    shape, raw_shape = np.shape(candidate), np.shape(raw)
    if len(shape) < 3 or len(raw_shape) < 3:
        return 0
    grow = int(shape[1]) - int(raw_shape[1])
    if grow <= 0 or grow % 2 or int(shape[2]) - int(raw_shape[2]) != grow:
        return 0
    return grow // 2


def _keras_inputs(model: Any, ns: Mapping[str, Any], dataset: str, heldout: Any) -> tuple[Any, str]:
    """Held-out images prepared the way the answer prepared its own test split."""
    import numpy as np
    raw_test = _served_test(dataset)
    per = int(np.prod(raw_test.shape[1:]))
    rows = len(raw_test)
    candidates = [(f, 0) for f in discover.arrays(ns, rows, per)]
    candidates += [(f, p) for f in discover.arrays(ns, rows) if (p := _padding(f.obj, raw_test))]
    wanted = _keras_input(model)
    candidates.sort(key=lambda c: tuple(np.shape(c[0].obj)[1:]) != wanted)     # shaped like the model's input first
    for found, pad in candidates:
        obj = np.asarray(found.obj)[:200]
        inner = obj[:, pad:-pad, pad:-pad] if pad else obj
        match = _affine_match(inner, raw_test[:200])
        if match:
            a, b = match
            x = (a * heldout.astype("float64") + b).astype("float32")
            target = tuple(np.shape(found.obj)[1:])
            if pad:
                border = float(np.asarray(obj[0]).reshape(-1)[0])
                widths = [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (x.ndim - 3)
                x = np.pad(x, widths, constant_values=border)
            if int(np.prod(target)) == 3 * int(np.prod(x.shape[1:])):
                x = np.repeat(x.reshape(len(x), -1, 1), 3, axis=-1)
            how = (f"through your preprocessing of the test split (`{found.name}` = "
                   f"{a:.4g} * pixels {'+' if b >= 0 else '-'} {abs(b):.4g}"
                   + (f", padded by {pad}" if pad else "") + ")")
            return x.reshape((len(x), *target)), how
    x = heldout.astype("float32")
    if any("Rescaling" == type(layer).__name__ for layer in getattr(model, "layers", [])):
        how = "as raw 0-255 pixels (your model rescales them itself)"
    else:
        x /= 255.0
        how = "scaled to [0, 1] (no preprocessed copy of the test split was found in your notebook)"
    target = _keras_input(model)
    if target:
        if len(target) == 3 and x.ndim == 3:
            x = _pad_to(x, target[:2], axes=(1, 2))
            x = np.repeat(x[..., None], target[2], axis=-1) if target[2] in (1, 3) else x
        if int(np.prod(target)) == int(np.prod(x.shape[1:])):
            x = x.reshape((len(x), *target))
    return x, how


def _keras_input(model: Any) -> tuple[int, ...] | None:
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) >= 2 and None not in shape[1:]:
        return tuple(int(d) for d in shape[1:])
    return None


def _pad_to(x: Any, size: tuple[int, ...], axes: tuple[int, int]) -> Any:
    """Zero-pad images centrally to ``size`` (28x28 digits into a 32x32 LeNet); larger or equal: as is."""
    import numpy as np
    grow = [int(size[i]) - int(x.shape[a]) for i, a in enumerate(axes)]
    if any(g <= 0 or g % 2 for g in grow):
        return x
    widths = [(0, 0)] * x.ndim
    for a, g in zip(axes, grow):
        widths[a] = (g // 2, g // 2)
    return np.pad(x, widths)


def _torch_inputs(model: Any, ns: Mapping[str, Any], heldout: Any,
                  request: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """Held-out images through the test loader's own transform (PIL images in, as torchvision does)."""
    import numpy as np
    from PIL import Image
    try:
        test = discover.loaders(ns).get("test")
    except NotFound:
        test = None
    transform = getattr(discover._base_dataset(test.obj.dataset), "transform", None) if test else None
    if transform is not None:
        mode = "L" if heldout.ndim == 3 else "RGB"
        batch = [np.asarray(transform(Image.fromarray(img, mode=mode))) for img in heldout]
        return np.stack(batch).astype("float32"), f"through the transform of your test loader `{test.name}`"
    x = heldout.astype("float32") / 255.0
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
    how = "scaled to [0, 1] as (N, C, H, W) (no test DataLoader with a transform was found)"
    if request and "image" in request:
        probe = _input_shape(model, "torch", request)
        if tuple(probe[2:]) != tuple(x.shape[2:]) and (padded := _pad_to(x, tuple(probe[2:]), (2, 3))) is not x:
            x, how = padded, how[:-1] + f", zero-padded to {probe[2]}x{probe[3]} for your model)"
    return x, how


def _predict(model: Any, x: Any, batch: int = 256) -> Any:
    import numpy as np
    outs = [forward(model, x[i:i + batch]) for i in range(0, len(x), batch)]
    return np.concatenate(outs) if outs else np.zeros((0,))


def predictions(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The graded model's outputs on the unlabelled held-out images, through the answer's pipeline."""
    import numpy as np
    data = Path(os.environ[env.DATA])
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    if request.get("folder"):
        x, how = _folder_inputs(found.obj, ns, data / "heldout" / request["folder"])
    else:
        heldout = np.load(data / "heldout" / f"{request['dataset']}.npy", allow_pickle=False)
        x, how = (_keras_inputs(found.obj, ns, request["dataset"], heldout) if kind == "keras"
                  else _torch_inputs(found.obj, ns, heldout, request))
    scores = _predict(found.obj, x)
    np.save(f"{stem}.scores.npy", np.asarray(scores, dtype="float32"))
    reported = discover.reported_accuracy(ns)
    return {"name": found.name, "how": how, "framework": kind, "scores": f"{stem.name}.scores.npy",
            "reported": list(reported) if reported else None,
            "shown": [f"measured the held-out accuracy of {discover.describe_model(found)}, "
                      f"feeding the images {how}"]}


def _folder_inputs(model: Any, ns: Mapping[str, Any], folder: Path) -> tuple[Any, str]:
    """Held-out image files as the answer's ImageDataGenerator (or the model's input) prepares them."""
    import numpy as np
    from PIL import Image
    files = sorted(p for p in folder.iterdir() if p.suffix == ".png")
    shape = tuple(model.input_shape[1:])
    height, width, channels = int(shape[0]), int(shape[1]), int(shape[2])
    images = []
    for path in files:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            if im.size != (width, height):
                im = im.resize((width, height), Image.NEAREST)
            a = np.asarray(im, dtype="float32")
        images.append(a[..., None] if channels == 1 else a)
    x = np.stack(images)
    try:
        its = discover.flow_iterators(ns)
    except NotFound:
        its = {}
    if "train" in its:
        gen = its["train"].obj.image_data_generator
        return np.stack([gen.standardize(img.copy()) for img in x]), (
            f"through your ImageDataGenerator's preprocessing (from `{its['train'].name}`)")
    if any("Rescaling" == type(layer).__name__ for layer in getattr(model, "layers", [])):
        return x, "as raw 0-255 pixels (your model rescales them itself)"
    return x / 255.0, "scaled to [0, 1]"


# ----------------------------------------------------------------------------- data pipelines
def loader_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """First batch of the training and test DataLoaders: shapes, dtype, value range."""
    split = discover.loaders(ns)
    out: dict[str, Any] = {"shown": []}
    for which in ("train", "test"):
        if which not in split:
            out[which] = None
            out["shown"].append(f"no {which} DataLoader found")
            continue
        f = split[which]
        images, labels = next(iter(f.obj))[:2]
        out[which] = {"name": f.name, "how": f.how, "shape": list(images.shape), "dtype": str(images.dtype),
                      "min": float(images.min()), "max": float(images.max()), "labels": int(len(labels)),
                      "size": discover._len(f.obj.dataset)}
        out["shown"].append(f"{which} loader: `{f.name}` ({f.how})")
    return out


def array_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The preprocessed training images: which array, its shape, dtype and value statistics."""
    import numpy as np
    with np.load(Path(os.environ[env.DATA]) / f"{request['dataset']}.npz", allow_pickle=False) as f:
        raw = f["x_train"]
    name = request.get("name", "x_train")
    per = int(np.prod(raw.shape[1:]))
    candidates = discover.arrays(ns, len(raw), per)
    chosen = next((f for f in candidates if f.name == name), None)
    if chosen is None:
        scaled = [f for f in candidates if np.asarray(f.obj).dtype.kind == "f"]
        chosen = (scaled or candidates or [None])[0]
    if chosen is None:
        raise NotFound(f"no preprocessed training images found (an array of {len(raw)} images, e.g. `{name}`)")
    x = np.asarray(chosen.obj)
    sample = x[:500].astype("float64")
    return {"name": chosen.name, "shape": list(x.shape), "dtype": str(x.dtype), "min": float(sample.min()),
            "max": float(sample.max()), "mean": float(sample.mean()), "std": float(sample.std()),
            "shown": [f"graded your training images `{chosen.name}` (shape {tuple(x.shape)}, {x.dtype})"]}


def iterator_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The training iterator of ``flow_from_directory``: classes, image shape, value range."""
    import numpy as np
    found = discover.flow_iterators(ns)["train"]
    it = found.obj
    batch = it[0][0]
    return {"name": found.name, "class_indices": dict(it.class_indices), "image_shape": list(it.image_shape),
            "max": float(np.max(batch)), "min": float(np.min(batch)), "directory": str(getattr(it, "directory", "")),
            "shown": [f"graded your training iterator `{found.name}` ({found.how})"]}


def history_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    found, table = discover.history(ns)
    values = {}
    for key, series in table.items():
        try:
            values[str(key)] = [float(v) for v in series][:1000]
        except Exception:
            continue
    return {"name": found.name, "metrics": values,
            "shown": [f"graded your training history `{found.name}` (metrics: {', '.join(sorted(values))})"]}


def app_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    if request.get("deferred"):       # the grader runs the app itself, in a fresh sandbox, after the notebook
        return {"deferred": True}
    from .app_probe import probe
    folder = Path(os.environ[env.DATA]) / "heldout" / request["folder"]
    files = sorted(p for p in folder.iterdir() if p.suffix == ".png")[: request.get("images", 6)]
    return probe(Path(request["app"]), files)


def named_values(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The numbers the answer stores under the requested names (a missing name is said so)."""
    values, shown = {}, []
    for name in request["names"]:
        if name not in ns:
            shown.append(f"no variable `{name}` defined (check the spelling and run its cell)")
            continue
        values[name] = _value(ns[name])
        shown.append(f"found `{name}`")
    return {"values": values, "shown": shown}


def _block_class(ns: Mapping[str, Any], name: str) -> tuple[str, Any]:
    import inspect
    torch = sys.modules.get("torch")
    if torch is None:
        raise NotFound(f"no `{name}` defined: torch is not imported")
    candidates = [(n, v) for n, v in discover._public(ns) if isinstance(v, type) and issubclass(v, torch.nn.Module)
                  and v.__module__ == "__main__"]
    for n, v in candidates:
        if n == name:
            return n, v
    with_skip = [(n, v) for n, v in candidates if "skip" in inspect.signature(v.__init__).parameters]
    if len(with_skip) == 1:
        return with_skip[0]
    raise NotFound(f"no class `{name}(nn.Module)` with a `skip` argument found"
                   + (f" (candidates: {', '.join(n for n, _ in with_skip)})" if with_skip else ""))


def residual_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """A residual block class: its output shape, and the gradient reaching the input of a deep stack
    of it with and without the shortcut (eval mode, fixed seed)."""
    import torch
    name, cls = _block_class(ns, request["class"])
    channels, size, depth = int(request["channels"]), int(request["size"]), int(request["depth"])
    out: dict[str, Any] = {"name": name, "input_shape": [2, channels, size, size],
                           "shown": [f"graded your residual block `{name}`"]}
    torch.manual_seed(0)
    with torch.no_grad():
        y = cls(channels).eval()(torch.randn(2, channels, size, size))
    out["output_shape"] = [int(d) for d in _first_output(y).shape]
    if out["output_shape"] != out["input_shape"]:
        return out                                  # a stack of it cannot run: the shape is the verdict
    x = torch.randn(2, channels, size, size)
    for skip in (True, False):                      # every weight at zero: F(x) = 0, so out = x (or relu(x))
        block = cls(channels, skip=skip).eval()
        with torch.no_grad():
            for param in block.parameters():
                param.zero_()
            y = _first_output(block(x)).float()
        identity = min(float((y - x).abs().max()), float((y - torch.relu(x)).abs().max()))
        out["zeroed_skip_vs_input" if skip else "zeroed_plain_max"] = identity if skip else float(y.abs().max())
    for skip in (True, False):
        torch.manual_seed(0)
        stack = torch.nn.Sequential(*[cls(channels, skip=skip) for _ in range(depth)]).eval()
        x = torch.randn(2, channels, size, size, requires_grad=True)
        _first_output(stack(x)).float().sum().backward()
        out["grad_skip" if skip else "grad_plain"] = float(x.grad.norm()) if x.grad is not None else 0.0
    return out


def training_time(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The seconds the graded model trained (timed by the kernel's hook) and the time the answer reports."""
    from . import training
    found = discover.model(ns, fits=_fits(request))
    reported = discover.reported_seconds(ns)
    measured = training.seconds_trained(found.obj)
    shown = [f"timed the training of {discover.describe_model(found)}: "
             + (f"{measured:.1f} s" if measured is not None else "it was not seen training")]
    shown.append(f"your reported training time: `{reported[0]}` = {reported[1]:.1f} s" if reported
                 else "no reported training time found (store it in seconds, e.g. `training_time`)")
    return {"name": found.name, "measured_s": measured, "reported": list(reported) if reported else None,
            "shown": shown}


def graph_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The graded model's layer graph (which layer feeds which), for the judge to find modules in."""
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    return {"name": found.name, "framework": kind, "graph": graph.export(found.obj, kind),
            "shown": [f"read the layer graph of {discover.describe_model(found)}"]}


def curves_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The figures saved so far (their lines) and the training history they should plot."""
    out: dict[str, Any] = {"figures": figures.saved(), "history": None, "shown": []}
    try:
        out["history"] = history_facts(request, ns, stem)
    except NotFound as err:
        out["shown"].append(str(err))
    names = [f["file"] for f in out["figures"] if f.get("file")]
    out["shown"].append(f"saved figures: {', '.join(names)}" if names else "no figure was saved (plt.savefig(...))")
    return out


def _array(value: Any) -> Any:
    """A NumPy copy of an array or tensor (None for anything else, or what cannot be copied)."""
    import numpy as np
    try:
        if hasattr(value, "detach"):
            value = value.detach().float().cpu().numpy()
        elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            value = value.numpy()
    except Exception:
        return None
    return value if isinstance(value, np.ndarray) else None


def _first_conv_weight(model: Any, kind: str) -> Any:
    if kind == "torch":
        torch = sys.modules["torch"]
        conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
        return _array(conv.weight) if conv is not None else None
    for w in model.weights:
        if len(w.shape) == 4:
            return _array(w)
    return None


def _tensor(ns: Mapping[str, Any], name: str, fits: Callable[[tuple[int, ...]], bool]) -> tuple[str, Any] | None:
    """``name`` if it holds an array, else the only public array whose shape ``fits``."""
    if name in ns and (a := _array(ns[name])) is not None:
        return name, a
    found = [(n, a) for n, v in discover._public(ns) if (a := _array(v)) is not None and a.ndim in (3, 4)
             and fits(tuple(a.shape))]
    return found[0] if len(found) == 1 else None


def _same_weights(a: Any, weight: Any) -> bool:
    """``a`` holds the layer's weights, as they are or with the axes reordered (e.g. HWC for display)."""
    import itertools
    import numpy as np
    if a.size != weight.size or a.ndim != weight.ndim:
        return False
    for order in itertools.permutations(range(weight.ndim)):
        moved = np.transpose(weight, order)
        if moved.shape == a.shape and np.allclose(a, moved, atol=1e-6):
            return True
    return False


def first_layer_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The first conv layer's filters and feature maps the answer holds, checked against its model, and
    the figures saved so far (their image panels)."""
    import numpy as np
    found = discover.model(ns)
    kind = discover.framework(found.obj)
    weight = _first_conv_weight(found.obj, kind)
    shown = [f"graded {discover.describe_model(found)}"]
    out: dict[str, Any] = {"model": found.name, "framework": kind,
                           "model_filters": list(weight.shape) if weight is not None else None,
                           "figures": figures.saved()}
    filt = _tensor(ns, request["filters"], lambda s: len(s) == 4 and 11 in s and 3 in s)
    if filt is None:
        shown.append(f"no filter tensor found (e.g. `{request['filters']}` = the first conv layer's weights)")
    else:
        name, a = filt
        same = weight is not None and _same_weights(a, weight)
        out["filters"] = {"name": name, "shape": list(a.shape), "from_model": same}
        shown.append(f"filters: `{name}` {tuple(a.shape)}")
    count = int(weight.shape[0] if kind == "torch" else weight.shape[-1]) if weight is not None else 64
    maps = _tensor(ns, request["maps"], lambda s: count in s[-3:] and any(40 <= d <= 60 for d in s[-3:]))
    if maps is None:
        shown.append(f"no feature-map tensor found (e.g. `{request['maps']}` = the first layer's output for the image)")
    else:
        name, a = maps
        finite = bool(np.isfinite(a).all())
        out["maps"] = {"name": name, "shape": list(a.shape), "finite": finite,
                       "std": float(a.std()) if finite and a.size else 0.0}
        shown.append(f"feature maps: `{name}` {tuple(a.shape)}")
    names = [f["file"] for f in out["figures"] if f.get("file")]
    shown.append(f"saved figures: {', '.join(names)}" if names else "no figure was saved (plt.savefig(...))")
    out["shown"] = shown
    return out


def transfer_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The stages of a transfer-learning answer: per ``fit`` call of the graded model, what was trainable,
    at which learning rate, on inputs in which value range (recorded by the hook as training happened)."""
    from . import training
    found = discover.model(ns, fits=_fits(request))
    stages = training.keras_stages(found.obj)
    return {"name": found.name, "framework": discover.framework(found.obj), "stages": stages,
            "shown": [f"graded {discover.describe_model(found)}: {len(stages)} training stage(s) (fit calls)"]}


# ----------------------------------------------------------------------------- limited data: the triage question
def _floats(value: Any) -> list[float] | dict[str, float] | None:
    """A class-weight vector or mapping as plain numbers (None when it is neither)."""
    if isinstance(value, dict):
        try:
            return {str(k): float(v) for k, v in list(value.items())[:100]}
        except Exception:
            return None
    try:
        values = _array(value)
        if values is None and isinstance(value, (list, tuple)):
            import numpy as np
            values = np.asarray(value, dtype="float64")
        if values is None or values.ndim != 1 or values.size > 100:
            return None
        return [float(v) for v in values.tolist()]
    except Exception:
        return None


def class_weight_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The class weights training used (a PyTorch loss's ``weight``, Keras ``fit(class_weight=...)``, as the
    hook saw them) and, for the feedback only, the ones the answer stores under a conventional name."""
    from . import training
    used = [{"how": f"the weight of F.{e['loss']} in training ({e['calls']} batches)", "weight": e["weight"]}
            for e in training.loss_weights()]
    used += [{"how": "fit(class_weight=...)", "weight": w} for w in training.keras_class_weights()]
    stored = {name: v for name in request.get("names", []) if name in ns and (v := _floats(ns[name])) is not None}
    return {"used": used, "stored": stored,
            "shown": [f"class weights seen in training: {len(used)}" + (f"; stored: {', '.join(stored)}" if stored else "")]}


def _head(model: Any, kind: str) -> tuple[str | None, Any]:
    """The output layer: the last parameter matrix (PyTorch: its name and tensor) or the last layer with
    weights, nested models included (Keras: its name and kernel)."""
    if kind == "torch":
        matrices = [(n, p) for n, p in model.named_parameters() if p.dim() == 2]
        return matrices[-1] if matrices else (None, None)
    try:
        leaves = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
                  if layer.weights and not list(layer._flatten_layers(include_self=False, recursive=False))]
    except Exception:
        leaves = [layer for layer in getattr(model, "layers", []) if layer.weights]
    return (leaves[-1].name, leaves[-1].weights[0]) if leaves else (None, None)


def frozen_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """How much of the graded model training changed: parameters stepped by an optimizer (PyTorch) or
    trainable in every ``fit`` (Keras), and whether its output layer was among them."""
    from . import training
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    head, _ = _head(found.obj, kind)
    facts: dict[str, Any] = {"name": found.name, "framework": kind, "params": discover.count_params(found.obj, kind),
                             "head": head, "shown": [f"graded {discover.describe_model(found)}"]}
    if kind == "torch":
        stepped = {id(e.ref()) for e in training._torch_entries(found.obj) if e.count}
        trained = [(n, p) for n, p in found.obj.named_parameters() if id(p) in stepped]
        facts.update(trained=int(sum(p.numel() for _, p in trained)), trained_names=[n for n, _ in trained][:40],
                     head_trained=any(n == head for n, _ in trained))
    else:
        stages = training.keras_stages(found.obj)
        facts.update(stages=[{k: st.get(k) for k in ("trainable", "frozen", "trainable_layers")} for st in stages],
                     trained=max((st["trainable"] for st in stages), default=0),
                     head_trained=bool(stages) and all(head in st["trainable_layers"] for st in stages))
    return facts


def saved_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The graded model's output layer weights, for the judge to find in the saved file (the trained model,
    not another one)."""
    import numpy as np
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    name, weight = _head(found.obj, kind)
    values = _array(weight)
    if values is None:
        raise NotFound(f"the output layer of `{found.name}` could not be read")
    np.save(f"{stem}.head.npy", values.astype("float32"))
    return {"name": found.name, "framework": kind, "head": name, "head_file": f"{stem.name}.head.npy",
            "shown": [f"compared the saved file with {discover.describe_model(found)}"]}


def _label(value: Any) -> Any:
    """One prediction as the judge reads it: a class name, an index, or what it was."""
    if isinstance(value, str):
        return value[:40]
    if isinstance(value, bool):
        return {"repr": repr(value)}
    try:
        import numbers
        count = value.numel() if callable(getattr(value, "numel", None)) else getattr(value, "size", None)
        if isinstance(value, numbers.Number) or (hasattr(value, "item") and count == 1):
            item = value.item() if hasattr(value, "item") else value
            if isinstance(item, (int, float)) and not isinstance(item, bool) and float(item).is_integer():
                return int(item)
    except Exception:
        pass
    if isinstance(value, (tuple, list)) and value:
        return _label(value[0])                # ("COVID19", 0.93) or (2, 0.93): the label first
    if isinstance(value, dict) and isinstance(value.get("label"), str):
        return value["label"][:40]
    return {"repr": repr(value)[:60]}


def predicted_files(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The answer's own prediction function called on unlabelled held-out image files (their paths)."""
    name = request["function"]
    fn = ns.get(name)
    if not callable(fn):
        raise NotFound(f"no function `{name}` defined (check the spelling and run its cell)")
    folder = Path(os.environ[env.DATA]) / "heldout" / request["folder"]
    files = sorted(p for p in folder.iterdir() if p.suffix == ".png")[: request.get("limit") or None]
    labels, errors = {}, {}
    for path in files:
        try:
            labels[path.name] = _label(fn(str(path)))
        except Exception as err:
            errors[path.name] = _short(err, 160)
            if len(errors) >= 3 and not labels:
                break
    return {"function": name, "labels": labels, "errors": errors, "files": len(files),
            "shown": [f"called `{name}` on {len(files)} held-out image files"]}


COLLECTORS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], Path], dict[str, Any]]] = {
    "function": function_values, "arrays": array_values, "model": model_facts, "predictions": predictions,
    "loaders": loader_facts, "preprocessed": array_facts, "iterator": iterator_facts,
    "history": history_facts, "app": app_facts, "ran": lambda request, ns, stem: {},
    "values": named_values, "residual": residual_facts, "training_time": training_time,
    "graph": graph_facts, "curves": curves_facts, "first_layer": first_layer_facts, "panels": first_layer_facts,
    "transfer": transfer_facts, "class_weights": class_weight_facts, "frozen": frozen_facts,
    "predict_files": predicted_files, "saved": saved_facts,
}

# pooling_lenet_alexnet: a worked example read from named variables
COLLECTORS["example"] = named_values


def _stage_kind(name: str) -> str | None:
    return "conv" if "conv" in name.lower() else "pool" if "pool" in name.lower() else None


def _keras_stages(model: Any, x: Any) -> list[dict[str, Any]]:
    """(class, output shape) of each conv and pooling layer: Sequential models are run layer by layer on
    the probe input (nested Sequentials too), functional models read from their graph."""
    import numpy as np
    stages: list[dict[str, Any]] = []
    if type(model).__name__ == "Sequential":
        def run(seq: Any, value: Any) -> Any:
            for layer in seq.layers:
                if type(layer).__name__ == "Sequential":
                    value = run(layer, value)
                    continue
                value = layer(value)
                kind = _stage_kind(type(layer).__name__)
                if kind:
                    stages.append({"class": type(layer).__name__, "kind": kind, "shape": [int(d) for d in np.shape(value)]})
            return value
        run(model, x)
        return stages
    if type(model).__name__ != "Functional":
        raise ValueError("the shapes of a subclassed Keras model's layers cannot be read: build it with "
                         "keras.Sequential or the functional API")
    for layer in model._flatten_layers(include_self=False, recursive=True):
        kind = _stage_kind(type(layer).__name__)
        if kind:
            shape = [int(d) if d is not None else 1 for d in layer.output.shape]
            stages.append({"class": type(layer).__name__, "kind": kind, "shape": shape})
    return stages


_pair_of = graph._pair


def _torch_ops(model: Any, x: Any) -> list[dict[str, Any]]:
    """The convolutions, poolings, ReLUs, dropouts and linear layers one forward pass runs, in order, with
    their output shapes, kernels and strides: layers (nn.Conv2d, nn.MaxPool2d ...) and functional calls
    (F.max_pool2d ...) alike, since the layers call the functions."""
    import torch
    import torch.nn.functional as F

    from . import training
    ops: list[dict[str, Any]] = []
    names = ("conv2d", "max_pool2d", "avg_pool2d", "relu", "dropout", "linear")
    # the functional API, and the torch / Tensor spellings of the same ops (torch.relu, x.relu(), ...)
    targets = [(F, n, n) for n in names] + [(torch, "relu", "relu"), (torch, "relu_", "relu"),
                                            (torch.Tensor, "relu", "relu"), (torch, "max_pool2d", "max_pool2d"),
                                            (torch, "dropout", "dropout"), (F, "relu_", "relu")]
    saved = [(owner, attr, name, getattr(owner, attr)) for owner, attr, name in targets if hasattr(owner, attr)]
    depth = [0]                      # F.max_pool2d calls torch.max_pool2d: one op, recorded once

    def facts(name: str, args: tuple, kwargs: dict) -> dict[str, Any]:
        if name == "conv2d":
            weight = args[1] if len(args) > 1 else kwargs.get("weight")
            return {"kernel": [int(d) for d in weight.shape[2:]],
                    "stride": _pair_of(args[3] if len(args) > 3 else kwargs.get("stride"), 1)}
        if name in ("max_pool2d", "avg_pool2d"):
            kernel = _pair_of(args[1] if len(args) > 1 else kwargs.get("kernel_size"))
            stride = args[2] if len(args) > 2 else kwargs.get("stride")
            return {"kernel": kernel, "stride": _pair_of(stride or None, kernel)}
        if name == "dropout":
            return {"p": float(args[1] if len(args) > 1 else kwargs.get("p", 0.5))}
        return {}

    def recorder(name: str, original: Callable) -> Callable:
        def call(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return original(*args, **kwargs)
            depth[0] += 1
            try:
                out = original(*args, **kwargs)
            finally:
                depth[0] -= 1
            first = out[0] if isinstance(out, tuple) else out
            if len(ops) < 500:
                entry = {"class": name, "kind": _stage_kind(name) or name, "shape": [int(d) for d in first.shape]}
                try:
                    entry.update(facts(name, args, kwargs))
                except Exception:
                    pass
                ops.append(entry)
            return out
        return call

    was_training = model.training
    try:
        for owner, attr, name, original in saved:
            setattr(owner, attr, recorder(name, original))
        model.eval()
        with torch.no_grad(), training.paused():
            model(torch.as_tensor(x, dtype=torch.float32).to(_torch_device(model)))
    finally:
        for owner, attr, _, original in saved:
            setattr(owner, attr, original)
        model.train(was_training)
    return ops


def _torch_stages(model: Any, x: Any) -> list[dict[str, Any]]:
    """(function, output shape) of every convolution and pooling the forward pass runs, in order."""
    return [op for op in _torch_ops(model, x) if op["kind"] in ("conv", "pool")]


def stage_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The output shape after every convolution and pooling of the graded model, for the probe input
    (the input size the model accepts, in its framework's layout)."""
    import numpy as np
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    shape = _input_shape(found.obj, kind, request)
    x = np.zeros(shape, dtype="float32")
    stages = _keras_stages(found.obj, x) if kind == "keras" else _torch_stages(found.obj, x)
    return {"name": found.name, "framework": kind, "input_shape": list(shape), "stages": stages,
            "shown": [f"read the shape after each convolution and pooling of {discover.describe_model(found)} "
                      f"for an input of shape {tuple(shape)}"]}


COLLECTORS["stages"] = stage_facts


def _keras_ops(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same facts as :func:`_torch_ops`, read from a Keras model's layer list."""
    ops = []
    for layer in layers:
        name = str(layer.get("class"))
        kind = _stage_kind(name)
        if kind == "conv":
            ops.append({"class": name, "kind": "conv", "kernel": _pair_of(layer.get("kernel_size")),
                        "stride": _pair_of(layer.get("strides"), 1)})
        elif kind == "pool":
            kernel = _pair_of(layer.get("pool_size"))
            ops.append({"class": name, "kind": "pool", "kernel": kernel, "stride": _pair_of(layer.get("strides"), kernel)})
        elif name == "Dense":
            ops.append({"class": name, "kind": "linear"})
        elif name == "Dropout":
            ops.append({"class": name, "kind": "dropout", "p": layer.get("rate")})
        elif name == "ReLU" or (name == "Activation" and layer.get("activation") == "relu"):
            ops.append({"class": name, "kind": "relu"})
        if kind != "pool" and name not in ("ReLU", "Activation") and layer.get("activation") == "relu":
            ops.append({"class": f"{name}(activation='relu')", "kind": "relu"})
    return ops


PARAM_NAMES = ("n_params", "num_params", "params", "total_params", "param_count", "parameters", "alexnet_params")


def architecture_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """The model's facts (as for ``model``) plus the operations a forward pass runs (kernels, strides,
    ReLU, dropout) and the parameter count the answer reports under a conventional name."""
    import numpy as np
    facts = model_facts(request, ns, stem)
    found = discover.model(ns, fits=_fits(request))
    kind = facts["framework"]
    try:
        facts["ops"] = (_torch_ops(found.obj, np.zeros(facts["input_shape"], dtype="float32")) if kind == "torch"
                        else _keras_ops(facts["layers"]))
    except Exception as err:
        facts["ops"], facts["ops_error"] = [], _short(err)
    reported = None
    for name in PARAM_NAMES:
        value = ns.get(name)
        if hasattr(value, "item") and getattr(value, "size", 0) == 1:
            value = value.item()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            reported = [name, value]
            break
    facts["reported_params"] = reported
    return facts


def eval_facts(request: Mapping[str, Any], ns: Mapping[str, Any], stem: Path) -> dict[str, Any]:
    """Was the model left in evaluation mode after the answer's own evaluation? (PyTorch: ``model.training``
    and the layers that behave differently in training mode; Keras' evaluate/predict are always in inference mode.)"""
    found = discover.model(ns, fits=_fits(request))
    kind = discover.framework(found.obj)
    out: dict[str, Any] = {"name": found.name, "framework": kind,
                           "shown": [f"looked at the mode of {discover.describe_model(found)} after your evaluation"]}
    if kind == "torch":
        from . import training
        modes = [type(m).__name__ for m in found.obj.modules() if m.training]
        out["last_evaluation"] = training.last_evaluation(found.obj)
        out["training"] = bool(found.obj.training)
        out["train_mode_layers"] = sorted({n for n in modes if "Dropout" in n or "BatchNorm" in n})
        out["dropout_layers"] = sum(1 for m in found.obj.modules() if "Dropout" in type(m).__name__)
    return out


COLLECTORS.update({"architecture": architecture_facts, "alexnet_parts": architecture_facts,
                   "alexnet_params": architecture_facts, "eval_mode": eval_facts})
