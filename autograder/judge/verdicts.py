"""Verdicts: evidence from the sandbox + what only the judge holds -> passed or not, and why.

Every verdict reads evidence as untrusted input (JSON, ``.npy``/``.npz`` without pickle) and never
runs student code. Messages say what was expected and what was found; for hidden parts they never
name the inputs or the expected values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..checks import formulas

MAX_EVIDENCE_BYTES = 64 * 2**20
MAX_WEIGHTS_BYTES = 2**30           # a model's exported weights: a classic AlexNet alone holds 228 MB


@dataclass
class Context:
    """What a verdict may use besides the evidence."""

    evidence_dir: Path
    work_dir: Path | None
    private_dir: Path | None
    settings: Mapping[str, Any]     # the question's profile row: budgets and thresholds
    hidden: bool
    review: list[str] = field(default_factory=list)   # notes for a human (not scored)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    question: str = ""
    profile: str = ""

    def attachment(self, name: str, limit: int = MAX_EVIDENCE_BYTES) -> Path:
        path = (self.evidence_dir / Path(str(name)).name)
        if not path.is_file() or path.stat().st_size > limit:
            raise Failed("the evidence of this check is missing or too large")
        return path


class Failed(Exception):
    """A check did not pass; the message is the feedback."""


Verdict = Callable[[Mapping[str, Any], Mapping[str, Any], Context], str]


def _found(evidence: Mapping[str, Any]) -> None:
    if evidence.get("missing"):
        raise Failed(str(evidence["missing"]))
    if evidence.get("error"):
        raise Failed(f"measuring your answer failed: {evidence['error']}")


def _number(value: Any) -> float | None:
    """A finite float from untrusted evidence, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


# ----------------------------------------------------------------------------- functions
REFERENCES: dict[str, Callable[..., Any]] = {
    "conv_output_size": formulas.conv_output_size,
    "receptive_field": formulas.receptive_field,
    "conv_params": formulas.conv_params,
    "same_padding_output": formulas.same_padding_output,
    "valid_padding_output": formulas.valid_padding_output,
    "dense_params": formulas.dense_params,
    "fit_diagnosis": formulas.fit_diagnosis,
    "dense_params_on_image": formulas.dense_params_on_image,
    "conv_params_on_image": formulas.conv_params_on_image,
    "per_class_report": formulas.per_class_report,
    "padded_output_size": formulas.padded_output_size,
}


def _call(name: str, case: list) -> str:
    return f"{name}({', '.join(repr(tuple(map(tuple, a))) if isinstance(a, list) and a and isinstance(a[0], list) else repr(a) for a in case)})"


def function(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    _found(evidence)
    name = request["function"]
    reference = REFERENCES[expect["reference"]]
    cases, values = request["cases"], evidence.get("values") or []
    if len(values) != len(cases):
        raise Failed(f"`{name}` was not evaluated on every case")
    wrong = []
    for case, got in zip(cases, values):
        args = [tuple(tuple(x) for x in a) if isinstance(a, list) and a and isinstance(a[0], list) else a for a in case]
        want = reference(*args)
        if "error" in got:
            wrong.append((case, f"raised {got['error']}"))
            continue
        value = got.get("value")
        if expect.get("labels"):            # a verdict in words: compare the label it names
            text = value.get("str") if isinstance(value, dict) else None
            if not isinstance(text, str) or formulas.fit_label(text) != want:
                wrong.append((case, f"returned {text!r}, expected a diagnosis naming {want!r}"))
            continue
        if expect.get("report"):             # a dict of per-class numbers
            problem = _report_problem(value, want)
            if problem:
                wrong.append((case, problem))
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isclose(value, want, rel_tol=1e-9, abs_tol=1e-9):
            wrong.append((case, f"returned {value!r}, expected {want!r}"))
    if not wrong:
        return f"`{name}` is right on all {len(cases)} cases"
    if ctx.hidden:
        raise Failed(f"`{name}` is wrong on {len(wrong)} of {len(cases)} further test cases "
                     "(their inputs are not shown); check rounding and edge cases")
    case, what = wrong[0]
    raise Failed(f"{_call(name, case)} {what}")


def _numbers(value: Any) -> list[float] | None:
    """A list of finite numbers from evidence (``"nan"`` read as NaN), else None."""
    if not isinstance(value, list):
        return None
    out = []
    for v in value:
        number = _number(v)
        is_nan = v in ("nan", None) or (isinstance(v, float) and math.isnan(v))
        if number is None and not is_nan:
            return None
        out.append(math.nan if number is None else number)
    return out


def _per_class(value: Any, n: int) -> Any:
    """Per-class numbers given as a list, or as a dict keyed by class index (``{0: 0.9, 1: ...}``)."""
    table = value.get("dict") if isinstance(value, dict) else None
    return [table.get(str(i)) for i in range(n)] if isinstance(table, dict) else value


def _report_problem(value: Any, want: Mapping[str, list]) -> str | None:
    """What is wrong with a returned per-class report (``{"confusion", "precision", "recall"}``), or None."""
    got = value.get("dict") if isinstance(value, dict) else None
    if not isinstance(got, dict) or not {"confusion", "precision", "recall"} <= set(got):
        return "did not return a dict with 'confusion', 'precision' and 'recall'"
    rows = got["confusion"] if isinstance(got["confusion"], list) else None
    matrix = [_numbers(r) for r in rows] if rows is not None else None
    if matrix is None or any(r is None for r in matrix) or matrix != want["confusion"]:
        return (f"returned the confusion matrix {got['confusion']!r}, expected {want['confusion']!r} "
                "(rows: the true class, columns: the predicted class)")
    close = lambda a, b: a is not None and len(a) == len(b) and all(
        math.isclose(x, y, abs_tol=1e-6) or (math.isnan(x) and y == 0.0) for x, y in zip(a, b))
    n = len(want["recall"])
    precision, recall = _numbers(_per_class(got["precision"], n)), _numbers(_per_class(got["recall"], n))
    if close(precision, want["recall"]) and close(recall, want["precision"]) and want["recall"] != want["precision"]:
        return "swapped precision and recall: recall is the diagonal over the row sums (the true class), precision over the column sums"
    for name, values in (("precision", precision), ("recall", recall)):
        if not close(values, want[name]):
            return f"returned {name} {got[name]!r}, expected {[round(v, 4) for v in want[name]]!r}"
    return None


# ----------------------------------------------------------------------------- models
def _weights(evidence: Mapping[str, Any], ctx: Context) -> list[np.ndarray]:
    info = evidence.get("weights") or {}
    with np.load(ctx.attachment(info.get("file", ""), MAX_WEIGHTS_BYTES), allow_pickle=False) as f:
        return [f[k] for k in sorted(f.files)]


def _kinds_from_weights(arrays: list[np.ndarray], framework: str) -> list[str]:
    """Layer kinds read from the saved weights: 4-D kernels are convolutions, 2-D are dense layers."""
    return ["conv" if a.ndim == 4 else "dense" for a in arrays if a.ndim in (2, 4)]


def _outputs_from_weights(arrays: list[np.ndarray], framework: str) -> int | None:
    mats = [a for a in arrays if a.ndim == 2]
    if not mats:
        return None
    last = mats[-1]
    return int(last.shape[0] if framework == "torch" else last.shape[1])


def _widths_from_weights(arrays: list[np.ndarray], framework: str) -> list[tuple[str, int, tuple[int, ...]]]:
    """(kind, output width, kernel size) of each conv and dense layer, in order, from its weights."""
    torch = framework == "torch"
    layers = []
    for a in arrays:
        if a.ndim == 4:
            layers.append(("conv", int(a.shape[0] if torch else a.shape[3]),
                           tuple(int(k) for k in (a.shape[2:] if torch else a.shape[:2]))))
        elif a.ndim == 2:
            layers.append(("dense", int(a.shape[0] if torch else a.shape[1]), ()))
    return layers


def _architecture(expect: Mapping[str, Any], arrays: list[np.ndarray], framework: str, params: int) -> str:
    """Check a named architecture (``expect["architecture"]``): layer widths in order, the first convs'
    kernel size, and a parameter count among the accepted variants; return the variant's name."""
    arch = expect["architecture"]
    layers = _widths_from_weights(arrays, framework)
    widths = [w for _, w, _ in layers]
    if widths != list(arch["widths"]):
        shown = " -> ".join(f"{k} {w}" for k, w, _ in layers) or "no conv or dense layers"
        raise Failed(f"{arch['name']} has conv and dense layers of widths {' -> '.join(map(str, arch['widths']))} "
                     f"(C1 6 filters, C3 16, C5 120, F6 84, output 10); found {shown}")
    convs = [k for kind, _, k in layers if kind == "conv"][: len(arch["kernels"])]
    if convs != [tuple(k) for k in arch["kernels"]]:
        raise Failed(f"{arch['name']}'s first convolutions use {' and '.join('x'.join(map(str, k)) for k in arch['kernels'])} "
                     f"kernels; found {', '.join('x'.join(map(str, k)) for k in convs) or 'none'}")
    variants = {int(n): name for n, name in arch["variants"].items()}
    if params not in variants:
        accepted = "; ".join(f"{n:,} ({name})" for n, name in variants.items())
        raise Failed(f"{params:,} parameters is not a {arch['name']} layout; accepted: {accepted}")
    return variants[params]


def _subsequence(needed: tuple[str, ...], kinds: list[str]) -> bool:
    it = iter(kinds)
    return all(any(k == n for k in it) for n in needed)


def model(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    _found(evidence)
    outputs = tuple(expect.get("outputs") or ())
    if expect.get("folder") and ctx.private_dir is not None:
        from ..data.staging import heldout_classes
        outputs = (len(heldout_classes(ctx.private_dir, expect["folder"])),)
    framework = evidence.get("framework") or "?"
    arrays = _weights(evidence, ctx)
    params = int(sum(a.size for a in arrays))
    graded = (f"graded your model `{evidence.get('name')}` ({'Keras' if framework == 'keras' else 'PyTorch'} "
              f"{evidence.get('class')}, {params:,} parameters)")
    reported = evidence.get("params")
    if isinstance(reported, int) and reported != params:
        ctx.review.append(f"the kernel reported {reported:,} parameters, the exported weights hold {params:,}")
    shape = evidence.get("output_shape")
    if isinstance(shape, str):
        raise Failed(f"{graded}: {shape}")
    if outputs:
        want = ", ".join(str(o) for o in outputs)
        got = shape[-1] if isinstance(shape, list) and shape else None
        from_weights = _outputs_from_weights(arrays, framework)
        if got not in outputs or (from_weights is not None and from_weights not in outputs):
            expected = f"(None, {outputs[0]})" if len(outputs) == 1 else f"(None, k) with k in {{{want}}}"
            raise Failed(f"{graded}: for an input of shape {tuple(evidence.get('input_shape', []))}, expected "
                         f"output shape {expected}, got {tuple([None] + list(shape[1:])) if shape else shape}")
    layers = tuple(expect.get("layers") or ())
    if layers:
        kinds = _kinds_from_weights(arrays, framework)
        if not _subsequence(layers, kinds):
            raise Failed(f"{graded}: expected layers of kinds {' -> '.join(layers)} in this order, "
                         f"found {' -> '.join(kinds) or 'no conv or dense layers'}")
    if expect.get("architecture"):
        graded += f": {expect['architecture']['name']}, {_architecture(expect, arrays, framework, params)}"
    note = " (structure read from your live model: self-reported)" if evidence.get("subclassed") else ""
    return graded + note


# ----------------------------------------------------------------------------- held-out accuracy
def _labels_from_scores(scores: np.ndarray) -> np.ndarray:
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim == 1:
        cut = 0.5 if scores.size == 0 or (scores.min() >= 0 and scores.max() <= 1) else 0.0
        return (scores > cut).astype("int64")
    return scores.reshape(len(scores), -1).argmax(axis=1)


def predictions(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    from ..data.staging import heldout_labels
    _found(evidence)
    labels = heldout_labels(ctx.private_dir, expect["dataset"])
    scores = np.load(ctx.attachment(evidence.get("scores", "")), allow_pickle=False)
    if not np.issubdtype(scores.dtype, np.number) or len(scores) != len(labels):
        raise Failed(f"the model returned {len(scores)} predictions for {len(labels)} held-out images")
    scores = np.nan_to_num(scores.astype("float64"))
    acc = float((_labels_from_scores(scores) == labels).mean())
    threshold = float(ctx.settings["min_accuracy"])
    ctx.metrics.append({"question": ctx.question, "metric": "heldout_accuracy", "value": acc,
                        "threshold": threshold, "profile": ctx.profile})
    how = evidence.get("how") or ""
    measured = f"held-out accuracy {acc:.3f} on {len(labels):,} images the notebook never saw (fed {how})"
    reported = evidence.get("reported")
    value = _number(reported[1]) if isinstance(reported, list) and len(reported) == 2 else None
    if value is not None:
        name = str(reported[0])
        if abs(value - acc) > 0.02 + 3 * math.sqrt(max(acc * (1 - acc), 0.01) / len(labels)):
            ctx.review.append(f"reported `{name}` = {value:.3f}, measured held-out accuracy {acc:.3f}")
            measured += f"; you reported `{name}` = {value:.3f}, which disagrees (listed for review, not scored)"
    if acc >= threshold:
        return f"{measured}: at least {threshold:.2f} required"
    chance = float(np.bincount(labels).max() / len(labels))
    hint = (f" — a model at chance level scores about {chance:.2f}: check that it trains (loss going down), "
            "that the test images are prepared like the training images, and the output layer"
            if acc <= chance + 0.05 else " — train longer or improve the architecture")
    if acc <= chance + 0.05 and expect.get("chance_hint"):
        hint += str(expect["chance_hint"])
    raise Failed(f"{measured}, below the {threshold:.2f} required{hint}")


# ----------------------------------------------------------------------------- data pipelines
def loaders(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    _found(evidence)
    shape = tuple(expect["image_shape"])
    for which in ("train", "test"):
        facts = evidence.get(which)
        if not facts:
            raise Failed(f"no {which} DataLoader found (a torch.utils.data.DataLoader over the {which} split)")
        got = tuple(facts["shape"][1:])
        if got != shape:
            raise Failed(f"{which} loader `{facts['name']}`: expected batches of images shaped (batch, "
                         f"{', '.join(map(str, shape))}), got {tuple(facts['shape'])}")
        if "float" not in facts["dtype"]:
            raise Failed(f"{which} loader `{facts['name']}`: expected float images (transforms.ToTensor()), got {facts['dtype']}")
        if facts["labels"] != facts["shape"][0]:
            raise Failed(f"{which} loader `{facts['name']}`: expected one label per image")
    if evidence["train"]["size"] and evidence["test"]["size"] and evidence["train"]["size"] <= evidence["test"]["size"] \
            and evidence["train"]["name"] == evidence["test"]["name"]:
        raise Failed("the training and the test loader are the same object")
    return f"loaders `{evidence['train']['name']}` (train) and `{evidence['test']['name']}` (test)"


def preprocessed(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    _found(evidence)
    shape = tuple(expect["shape"])
    name = evidence["name"]
    if tuple(evidence["shape"][1:]) != shape:
        raise Failed(f"expected `{name}` to hold images of shape {shape}, got {tuple(evidence['shape'][1:])}")
    if "float" not in evidence["dtype"]:
        raise Failed(f"expected `{name}` as floats (e.g. astype('float32') / 255), got dtype {evidence['dtype']}")
    lo, hi, mean, std = evidence["min"], evidence["max"], evidence["mean"], evidence["std"]
    scaled = lo >= 0.0 and 0.0 < hi <= 1.0
    standardised = abs(mean) < 0.5 and 0.3 < std < 3.0
    if not (scaled or standardised):
        raise Failed(f"expected `{name}` scaled to [0, 1] (or standardised), got values from {lo:.3g} to {hi:.3g}")
    return f"`{name}`: {tuple(evidence['shape'])}, {evidence['dtype']}, " + ("in [0, 1]" if scaled else "standardised")


def iterator(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    from ..data.staging import heldout_classes
    _found(evidence)
    classes = heldout_classes(ctx.private_dir, expect["folder"])
    size = int(ctx.settings["image_size"])
    if sorted(evidence["class_indices"]) != classes:
        raise Failed(f"expected the classes {classes} (one per sub-folder of DATA_DIR / 'train'), got "
                     f"{sorted(evidence['class_indices'])}")
    if tuple(evidence["image_shape"][:2]) != (size, size):
        raise Failed(f"expected target_size=({size}, {size}), got {tuple(evidence['image_shape'][:2])}")
    if evidence["max"] > 1.0:
        raise Failed("expected images rescaled to [0, 1] (ImageDataGenerator(rescale=1/255)); "
                     f"got values up to {evidence['max']:.1f}")
    return f"iterator `{evidence['name']}`: {len(classes)} classes, {size}x{size}, rescaled"


ALIASES = {"accuracy": ("accuracy", "acc", "train_accuracy", "train_acc"),
           "val_accuracy": ("val_accuracy", "val_acc", "valid_accuracy", "validation_accuracy", "valid_acc")}


def history(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    _found(evidence)
    metrics = evidence.get("metrics") or {}
    for needed in expect.get("metrics", ()):
        if not any(metrics.get(alias) for alias in ALIASES.get(needed, (needed,))):
            raise Failed(f"your history `{evidence.get('name')}` has no '{needed}' per epoch; pass "
                         "validation_data=... (or validation_split=...) to fit")
    return f"history `{evidence.get('name')}` with {', '.join(sorted(metrics))}"


def _keras_archive(path: Path) -> bool:
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def ran(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The cell ran; a file it needs exists in the work directory (looked at by the judge itself)."""
    name = expect.get("file")
    if name:
        path = (ctx.work_dir / name) if ctx.work_dir else Path(name)
        if not path.is_file() or path.is_symlink():
            raise Failed(f"{name} was not found next to the notebook: save it there (e.g. model.save(\"{name}\"))"
                         if name.endswith(".keras") else f"write {name} next to the notebook (%%writefile {name})")
        if name.endswith(".keras") and not _keras_archive(path):
            raise Failed(f"{name} is not a saved Keras model (model.save writes a zip with config.json)")
    return f"{name} found" if name else "ran"


def app(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    from ..data.staging import heldout_classes
    _found(evidence)
    if evidence.get("problem"):
        raise Failed(str(evidence["problem"]))
    classes = heldout_classes(ctx.private_dir, expect["dataset"])
    import json
    table = json.loads((ctx.private_dir / f"{expect['dataset']}.json").read_text())["labels"]
    uploads = evidence.get("uploads") or []
    if len(uploads) < request.get("images", 6):
        raise Failed("the app was not run on every test image")
    correct = 0
    for entry in uploads:
        if entry.get("problem"):
            raise Failed(str(entry["problem"]))
        if entry.get("label") is None:
            raise Failed("the app shows no label: expected 'Normal' or 'Pneumonia' in the page text after the upload, "
                         f"got: {entry.get('text', '')!r}")
        if entry.get("probability") is None:
            raise Failed("the app shows no probability: expected a number in [0, 1] (e.g. 0.93) or a percentage "
                         f"(e.g. 93%) after the upload, got: {entry.get('text', '')!r}")
        truth = classes[table.get(entry.get("file"), -1)] if entry.get("file") in table else None
        correct += truth is not None and entry["label"].lower() == truth.lower()
    need = int(expect["min_correct"])
    if correct < need:
        raise Failed(f"the app labelled {correct} of {len(uploads)} test X-rays correctly (need at least {need}); "
                     "check that it preprocesses like training (size, channels, [0, 1]) and maps the output to the right class")
    bad = evidence.get("bad_upload") or {}
    if bad.get("exception") or bad.get("problem"):
        raise Failed("uploading a file that is not an image crashed the app instead of showing st.error: "
                     f"{bad.get('exception') or bad.get('problem')}. Wrap opening the image in try/except and call st.error(...)")
    if not bad.get("error_shown"):
        raise Failed("uploading a file that is not an image showed no st.error message; catch the error when "
                     "opening the image and call st.error(...)")
    return f"the app labelled {correct} of {len(uploads)} test X-rays correctly and rejected a non-image file"


# ----------------------------------------------------------------------------- computed facts
def values(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """Named numbers against the judge's known facts (exact integers)."""
    _found(evidence)
    got = evidence.get("values") or {}
    for name, want in expect["values"].items():
        if name not in got:
            raise Failed(f"no variable `{name}` found: store the number under that name")
        value = got[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != want:
            hint = expect.get("hints", {}).get(name, "")
            raise Failed(f"`{name}` = {value!r} is not the parameter count of that model{hint}")
    return "; ".join(f"`{name}` = {want:,}" for name, want in expect["values"].items()) + ": right"


def residual(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """Shape kept; with every weight at zero the block passes its input through (the identity shortcut);
    through a deep stack the shortcut keeps the input gradient far above the plain stack's."""
    _found(evidence)
    name = evidence.get("name")
    want = [2, request["channels"], request["size"], request["size"]]
    where = "on a further input" if ctx.hidden else f"an input of shape {tuple(want)}"
    if evidence.get("output_shape") != want:
        raise Failed(f"`{name}` does not keep the shape of {where}: a residual block must keep it "
                     "(padding=1 on the 3x3 convolutions, the same channels in and out)")
    through, plain = _number(evidence.get("zeroed_skip_vs_input")), _number(evidence.get("zeroed_plain_max"))
    if through is None or through > 1e-5:
        raise Failed(f"with all its weights at zero, `{name}(skip=True)` does not return its input: the shortcut "
                     "must add the block's input unchanged (out = F(x) + x, then the ReLU)")
    if plain is None or plain > 1e-5:
        raise Failed(f"with all its weights at zero, `{name}(skip=False)` still passes its input on: without the "
                     "shortcut the block is only F(x)")
    skip, plain_grad = _number(evidence.get("grad_skip")), _number(evidence.get("grad_plain"))
    ratio = float(expect["min_ratio"])
    if skip is None or plain_grad is None or skip <= 0 or plain_grad < 0 or skip < ratio * plain_grad:
        raise Failed(f"in a deep stack of `{name}` blocks the gradient reaching the input is not kept alive by the "
                     f"shortcut (at least {ratio:g} times the plain stack's): check that `skip=True` adds the input")
    if ctx.hidden:
        return f"`{name}` keeps the shape and passes its input through the shortcut on further inputs"
    return (f"`{name}` keeps the shape {tuple(want)} and passes its input through the shortcut; through "
            f"{request['depth']} blocks the input gradient is {skip:.3g} with shortcuts and {plain_grad:.2g} without")


def training_time(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The reported training time agrees with the time the grader saw the model train (within a factor)."""
    _found(evidence)
    measured = _number(evidence.get("measured_s"))
    reported = evidence.get("reported")
    if measured is None or measured < 0:
        raise Failed(f"your model `{evidence.get('name')}` was not seen training (fit or an optimizer step)")
    if not isinstance(reported, list) or len(reported) != 2:
        raise Failed(f"the grader timed your training at {measured:.1f} s, but no reported training time was found: "
                     "store it in seconds, e.g. `training_time = time.perf_counter() - t0`")
    name, value = str(reported[0]), _number(reported[1])
    factor, floor = float(expect["factor"]), float(expect["floor_s"])
    close = value is not None and (abs(value - measured) <= floor
                                   or measured / factor <= value <= measured * factor)
    if not close:
        raise Failed(f"you reported `{name}` = {reported[1]!r} s, the grader timed the training at {measured:.1f} s: "
                     "time the training itself (fit or the training loop), in seconds")
    return f"reported `{name}` = {value:.1f} s; the grader timed {measured:.1f} s"


# ----------------------------------------------------------------------------- graphs and figures
def inception(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """At least one Inception module in the exported graph: parallel branches from one tensor, joined."""
    from .graphs import inception_modules
    _found(evidence)
    modules, others = inception_modules(evidence.get("graph") if isinstance(evidence.get("graph"), dict) else {})
    name = evidence.get("name")
    if len(modules) < int(expect.get("min_modules", 1)):
        seen = "; ".join(" | ".join(b.describe() for b in branches) for branches in others[:3])
        graph = evidence.get("graph") if isinstance(evidence.get("graph"), dict) else {}
        opaque = [str(n) for n in graph.get("opaque") or []][:5]
        hidden = (f" (the layers {', '.join(opaque)} are nested models or custom layers, which are not read: build "
                  "the module with the functional API)") if opaque else ""
        raise Failed(f"no Inception module found in your model `{name}`: expected a concatenation of parallel "
                     "branches from the same input (a 1x1 conv, a 1x1 -> 3x3 conv, a 1x1 -> 5x5 conv and a pooling "
                     "branch)" + (f"; found concatenations of: {seen}" if seen else "; found no concatenation")
                     + hidden)
    branches = " | ".join(b.describe() for b in modules[0])
    return f"graded your model `{name}`: {len(modules)} Inception module(s), e.g. branches {branches}"


def _image_file(ctx: Context, name: str) -> Path:
    """A saved figure, opened by the judge itself: it must exist next to the notebook and be an image."""
    from PIL import Image
    path = (ctx.work_dir / Path(name).name) if ctx.work_dir else Path(Path(name).name)
    if not path.is_file() or path.is_symlink() or not 0 < path.stat().st_size <= MAX_EVIDENCE_BYTES:
        raise Failed(f"the figure {Path(name).name} was not found next to the notebook")
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        try:
            with Image.open(path, formats=["PNG", "JPEG"]) as im:
                im.verify()
        except Exception:
            raise Failed(f"{path.name} is not a readable image") from None
    return path


def _series(metrics: Mapping[str, Any], key: str) -> list[float]:
    for alias in ALIASES[key]:
        values = metrics.get(alias)
        if isinstance(values, list) and values and all(isinstance(v, (int, float)) for v in values):
            return [float(v) for v in values]
    return []


def _plots(line: Mapping[str, Any], series: list[float]) -> bool:
    y = line.get("y") if isinstance(line, dict) else None
    if not isinstance(y, list) or len(y) != len(series) or not series:
        return False
    try:
        got = np.asarray(y, dtype="float64")
    except (TypeError, ValueError):
        return False
    want = np.asarray(series)
    return bool(np.allclose(got, want, atol=1e-4) or np.allclose(got, 100 * want, atol=1e-2))


def curves(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """A saved figure with the training and the validation accuracy curves, one point per epoch."""
    _found(evidence)
    metrics = (evidence.get("history") or {}).get("metrics") if isinstance(evidence.get("history"), dict) else None
    if not isinstance(metrics, dict):
        raise Failed("no training history found to compare the curves with: keep `history = model.fit(...)`")
    train, val = _series(metrics, "accuracy"), _series(metrics, "val_accuracy")
    if not train or not val:
        raise Failed("your history has no training and validation accuracy per epoch: pass validation_data=... to fit")
    figures = [f for f in evidence.get("figures") or [] if isinstance(f, dict) and isinstance(f.get("file"), str)]
    if not figures:
        raise Failed("no figure was saved: plot the two curves and save the figure with plt.savefig(...)")
    for figure in reversed(figures):
        lines = [line for ax in figure.get("axes") or [] if isinstance(ax, dict) for line in ax.get("lines") or []]
        if any(_plots(line, train) for line in lines) and any(_plots(line, val) for line in lines):
            path = _image_file(ctx, figure["file"])
            return (f"{path.name} shows the training and the validation accuracy, {len(train)} points each "
                    "(one per epoch)")
    last = figures[-1]
    lengths = [len(line.get("y") or []) for ax in last.get("axes") or [] for line in ax.get("lines") or []]
    raise Failed(f"none of your saved figures plots both the training and the validation accuracy of your history "
                 f"({len(train)} epochs); {last['file']} has {len(lengths)} curve(s) of "
                 f"{', '.join(map(str, lengths)) or 'no'} points")


def _channels(shape: list[int], framework: str) -> int:
    """Filters of a conv weight: (out, in, kh, kw) in PyTorch, (kh, kw, in, out) in Keras."""
    return int(shape[0] if framework == "torch" else shape[-1])


def first_layer(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The first conv layer's filters (AlexNet's 11x11x3 kernels, from the model itself) and its feature
    maps for the photo (one per filter, about 55x55)."""
    _found(evidence)
    framework = str(evidence.get("framework"))
    filters, maps = evidence.get("filters"), evidence.get("maps")
    if not isinstance(filters, dict):
        raise Failed(f"no filter tensor found: store the first conv layer's weights as `{request['filters']}`")
    shape = [int(d) for d in filters.get("shape") or [] if isinstance(d, int)]
    accepted = {tuple(sorted(s)) for s in expect["filter_shapes"]}       # in any axis order (HWC for display)
    if tuple(sorted(shape)) not in accepted or len(shape) != 4:
        raise Failed(f"`{filters.get('name')}` has shape {tuple(shape)}; AlexNet's first layer holds "
                     + " or ".join(str(s) for s in expect["filter_shapes"]) + " filters of 11x11 on 3 colour channels")
    if filters.get("from_model") is not True:
        raise Failed(f"`{filters.get('name')}` is not the first conv layer's weights of your model "
                     f"`{evidence.get('model')}` (e.g. model.features[0].weight)")
    model_filters = evidence.get("model_filters")
    count = _channels(model_filters if isinstance(model_filters, list) and len(model_filters) == 4 else shape, framework)
    if not isinstance(maps, dict):
        raise Failed(f"no feature-map tensor found: store the first conv layer's output for the image as `{request['maps']}`")
    mshape = [int(d) for d in maps.get("shape") or [] if isinstance(d, int)]
    spatial = [d for d in mshape[-3:] if d != count]
    sizes = set(expect["map_sizes"])
    if count not in mshape[-3:] or len(spatial) != 2 or not set(spatial) <= sizes:
        raise Failed(f"`{maps.get('name')}` has shape {tuple(mshape)}: expected {count} feature maps of "
                     f"{' to '.join(f'{n}x{n}' for n in (min(sizes), max(sizes)))} (one per filter, for a 224x224 or "
                     "227x227 image)")
    if maps.get("finite") is not True or not (_number(maps.get("std")) or 0) > 0:
        raise Failed(f"`{maps.get('name')}` is constant or not finite: run the image through the first layer")
    return (f"filters `{filters.get('name')}` {tuple(shape)} from your model `{evidence.get('model')}`; "
            f"feature maps `{maps.get('name')}` {tuple(mshape)}")


def _panels(figure: Mapping[str, Any], sizes: set[int]) -> int:
    """Image panels of a saved figure whose image is square with a side in ``sizes``."""
    count = 0
    for ax in figure.get("axes") or []:
        shape = ax.get("image_shape") if isinstance(ax, dict) else None
        if isinstance(shape, list) and len(shape) == 2 and shape[0] == shape[1] and shape[0] in sizes:
            count += 1
    return count


def panels(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """Two different saved figures: one image panel per filter (11x11), one per feature map (about 55x55);
    the files are opened here."""
    _found(evidence)
    framework = str(evidence.get("framework"))
    model_filters = evidence.get("model_filters")
    count = _channels(model_filters, framework) if isinstance(model_filters, list) and len(model_filters) == 4 else 64
    figures = [f for f in evidence.get("figures") or [] if isinstance(f, dict) and isinstance(f.get("file"), str)]
    if not figures:
        raise Failed("no figure was saved: show the filters and the feature maps with imshow and save each figure "
                     "with plt.savefig(...)")
    enough = lambda n: count <= n <= count + 1               # one panel each, and perhaps the photo itself
    sizes = set(expect["map_sizes"])                          # first-layer maps, or the maps the answer holds
    held = (evidence.get("maps") or {}).get("shape") if isinstance(evidence.get("maps"), dict) else None
    if isinstance(held, list) and len(held) >= 2 and all(isinstance(d, int) for d in held[-2:]) and held[-1] == held[-2]:
        sizes.add(held[-1])
    sizes.discard(11)
    filters = [f for f in figures if enough(_panels(f, {11}))]
    maps = [f for f in figures if enough(_panels(f, sizes))
            and all(f.get("figure") != g.get("figure") for g in filters)]
    if not filters or not maps:
        shown = ", ".join(f"{f['file']}: {_panels(f, {11})} filter and {_panels(f, sizes)} "
                          "feature-map panel(s)" for f in figures)
        raise Failed(f"expected two figures, one with an image panel per filter ({count} panels of 11x11) and one "
                     f"with a panel per feature map ({count} maps), found {shown}")
    for figure in (filters[-1], maps[-1]):
        _image_file(ctx, figure["file"])
    return f"{filters[-1]['file']} shows the {count} filters and {maps[-1]['file']} the {count} feature maps"


# ----------------------------------------------------------------------------- transfer learning
def _stages(evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    stages = [s for s in evidence.get("stages") or [] if isinstance(s, dict)]
    if not stages:
        raise Failed(f"your model `{evidence.get('name')}` was never trained with fit (Keras): the stages of "
                     "transfer learning are read from its fit calls")
    return stages


def _base_layers(stage: Mapping[str, Any], pattern: str) -> list[str]:
    import re
    names = [n for n in stage.get("trainable_layers") or [] if isinstance(n, str)]
    return [n for n in names if re.match(pattern, n)]


def transfer(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """Transfer learning read from the fit calls: a frozen base first, then only the last block(s) at a
    lower learning rate; inputs prepared for the base (not raw 0-255 pixels)."""
    _found(evidence)
    stages = _stages(evidence)
    first, part, base = stages[0], expect["part"], expect["base_layers"]
    if part == "frozen":
        trainable = _base_layers(first, base)
        frozen = _number(first.get("frozen")) or 0
        if not (_number(first.get("trainable")) or 0) > 0:
            raise Failed("nothing is trainable in your first training stage: keep the new head trainable")
        if trainable or frozen < float(expect["min_frozen"]):
            raise Failed(f"in your first training stage the base is not frozen: {len(trainable)} of its layers are "
                         f"trainable ({', '.join(trainable[:4])}{', ...' if len(trainable) > 4 else ''}); set "
                         "`base.trainable = False` before the first fit so only the new head trains")
        return (f"stage 1: the base is frozen ({int(frozen):,} non-trainable parameters), "
                f"{int(_number(first.get('trainable')) or 0):,} trainable in the new head")
    if part == "finetune":
        if len(stages) < 2:
            raise Failed("only one training stage found: after training the head, unfreeze the last block of the "
                         "base, compile again with a lower learning rate and fit again")
        lr0 = _number(first.get("lr"))
        for later in stages[1:]:                       # every later fit: only the last block(s), a lower rate
            unfrozen = _base_layers(later, base)
            early = sorted(set(unfrozen) - set(_base_layers({"trainable_layers": unfrozen}, expect["last_blocks"])))
            if early:
                raise Failed(f"fine-tuning unfreezes more than the last block(s): {', '.join(early[:4])}"
                             f"{', ...' if len(early) > 4 else ''} are trainable too; keep the earlier blocks frozen")
            lr1 = _number(later.get("lr"))
            if unfrozen and (lr0 is None or lr1 is None or not lr1 < lr0):
                raise Failed(f"fine-tuning should use a lower learning rate than the first stage (got {lr1} after "
                             f"{lr0}): compile again with e.g. a 10-100 times smaller learning rate")
        last = stages[-1]
        unfrozen = _base_layers(last, base)
        if not unfrozen:
            raise Failed("in your fine-tuning stage no layer of the base is trainable: unfreeze its last block")
        return f"fine-tuning trains {', '.join(unfrozen)} at learning rate {_number(last.get('lr')):g} (first stage {lr0:g})"
    stats = first.get("inputs") if isinstance(first.get("inputs"), dict) else {}
    lo, hi = _number(stats.get("min")), _number(stats.get("max"))
    if lo is None or hi is None:
        raise Failed("the inputs of your first fit could not be read (pass arrays or a flow_from_directory iterator)")
    if lo >= 0 and hi > 1.5:
        raise Failed(f"your images reach the base as raw pixels ({lo:.0f} to {hi:.0f}): apply the base's "
                     "`preprocess_input` (e.g. ImageDataGenerator(preprocessing_function=preprocess_input))")
    return f"inputs prepared for the base (values from {lo:.3g} to {hi:.3g})"


VERDICTS: dict[str, Callable[..., str]] = {
    "function": function, "model": model, "predictions": predictions, "loaders": loaders,
    "preprocessed": preprocessed, "iterator": iterator, "history": history, "ran": ran, "app": app,
    "values": values, "residual": residual, "training_time": training_time,
    "graph": inception, "curves": curves, "first_layer": first_layer, "panels": panels, "transfer": transfer,
}


# ----------------------------------------------------------------------------- limited data: class weights, a frozen base
def _by_class(weight: Any, classes: list[str]) -> list[float] | None:
    """A weight vector (indexed like the sorted class folders) or mapping (index or class name) per class."""
    if isinstance(weight, dict):
        lookup = {str(k).lower(): v for k, v in weight.items()}
        values = [lookup.get(str(i), lookup.get(c.lower())) for i, c in enumerate(classes)]
    elif isinstance(weight, list):
        values = weight
    else:
        return None
    numbers = [_number(v) for v in values]
    return numbers if len(numbers) == len(classes) and all(n is not None and n > 0 for n in numbers) else None


def _inverse_frequency(weights: list[float], counts: list[int], tolerance: float) -> bool:
    products = [w * n for w, n in zip(weights, counts)]
    return max(products) <= (1 + tolerance) * min(products)


def class_weights(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """Weights that training used are inversely proportional to the training images per class."""
    from ..data.staging import heldout_classes, train_counts
    _found(evidence)
    classes = heldout_classes(ctx.private_dir, expect["dataset"])
    table = train_counts(ctx.private_dir, expect["dataset"])
    counts = [int(table[c]) for c in classes]
    shown = ", ".join(f"{c} {n}" for c, n in zip(classes, counts))
    tolerance = float(expect.get("tolerance", 0.25))
    used = [u for u in evidence.get("used") or [] if isinstance(u, dict)]
    for entry in used:
        weights = _by_class(entry.get("weight"), classes)
        if weights and _inverse_frequency(weights, counts, tolerance):
            ratio = ", ".join(f"{c} {w / min(weights):.2f}" for c, w in zip(classes, weights))
            return f"training used class weights inversely proportional to the class counts ({shown}): {ratio} ({entry.get('how')})"
    stored = evidence.get("stored") or {}
    if used:
        found = _by_class(used[0].get("weight"), classes)
        what = ", ".join(f"{c} {w:.3g}" for c, w in zip(classes, found)) if found else repr(used[0].get("weight"))[:80]
        raise Failed(f"training used the class weights {what}; with {shown} training images the rare class must weigh "
                     "the most: weight_c = total / (classes x count_c), i.e. inversely proportional to each class's count")
    if stored:
        raise Failed(f"`{next(iter(stored))}` is computed but training never used it: pass it to the loss "
                     "(nn.CrossEntropyLoss(weight=...)) or to fit(class_weight=...)")
    raise Failed(f"no class weights were used in training (training images: {shown}): give the loss "
                 "nn.CrossEntropyLoss(weight=...) or pass fit(class_weight=...)")


def frozen(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """Transfer learning with limited data: most of the model (a pretrained base) stays frozen, its new head trains."""
    _found(evidence)
    params, trained = _number(evidence.get("params")), _number(evidence.get("trained"))
    if params is None or trained is None or params <= 0:
        raise Failed("the graded model's parameters could not be counted")
    if trained == 0:
        raise Failed(f"`{evidence.get('name')}` was never seen training (no optimizer step, no completed fit)")
    frozen_count = params - trained
    need, share = int(expect["min_frozen"]), float(expect["min_frozen_share"])   # a base, and most of the model
    if frozen_count < need or frozen_count < share * params:
        raise Failed(f"training changed {int(trained):,} of the model's {int(params):,} parameters: a pretrained base "
                     f"should stay frozen (at least {share:.0%} and {need:,} parameters) so the few images train only the new head")
    if not evidence.get("head_trained"):
        raise Failed(f"the output layer `{evidence.get('head')}` never trained: the new 3-way head is what learns")
    return (f"`{evidence.get('name')}`: {int(frozen_count):,} of {int(params):,} parameters frozen, "
            f"{int(trained):,} trained (the head `{evidence.get('head')}` included)")


def _class_of(label: Any, classes: list[str]) -> int | None:
    if isinstance(label, bool):
        return None
    if isinstance(label, int):
        return label if 0 <= label < len(classes) else None
    if isinstance(label, str):
        key = "".join(ch for ch in label.lower() if ch.isalnum())
        names = ["".join(ch for ch in c.lower() if ch.isalnum()) for c in classes]
        for i, name in enumerate(names):
            if key == name or (name.startswith("covid") and key.startswith("covid")) or (
                    name == "pneumonia" and key in ("viralpneumonia", "bacterialpneumonia")):
                return i
    return None


def predicted_files(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The answer's prediction function on held-out files: class names it returns, then (hidden) accuracy and
    the recall of every class, with the confusion matrix in the feedback."""
    from ..data.staging import heldout_classes
    import json
    _found(evidence)
    name = evidence.get("function") or request["function"]
    classes = heldout_classes(ctx.private_dir, expect["dataset"])
    labels = evidence.get("labels") if isinstance(evidence.get("labels"), dict) else {}
    errors = evidence.get("errors") if isinstance(evidence.get("errors"), dict) else {}
    if errors:
        first = next(iter(errors.values()))
        raise Failed(f"`{name}` raised on {len(errors)} held-out image file(s): {first}")
    files = evidence.get("files")
    if not labels or len(labels) != files:
        raise Failed(f"`{name}` was not called on every held-out file")
    unreadable = [v for v in labels.values() if _class_of(v, classes) is None]
    if unreadable:
        raise Failed(f"`{name}` returned {unreadable[0]!r}: return the class name, one of {classes}")
    if not expect.get("score"):
        return f"`{name}` returns class names ({', '.join(sorted({str(v) for v in labels.values()}))})"
    table = json.loads((ctx.private_dir / f"{expect['dataset']}.json").read_text())["labels"]
    if set(labels) != set(table):
        raise Failed(f"`{name}` was not called on the held-out files")
    truth = [int(table[f]) for f in sorted(table)]
    predicted = [_class_of(labels[f], classes) for f in sorted(table)]
    report = formulas.per_class_report(truth, predicted, len(classes))
    acc = sum(t == p for t, p in zip(truth, predicted)) / len(truth)
    low = min(report["recall"])
    threshold, need = float(ctx.settings["min_accuracy"]), float(ctx.settings["min_class_recall"])
    ctx.metrics.append({"question": ctx.question, "metric": "heldout_accuracy", "value": acc,
                        "threshold": threshold, "profile": ctx.profile})
    ctx.metrics.append({"question": ctx.question, "metric": "min_class_recall", "value": low,
                        "threshold": need, "profile": ctx.profile})
    recalls = ", ".join(f"{c} {r:.2f}" for c, r in zip(classes, report["recall"]))
    matrix = "; ".join(f"{c}: {row}" for c, row in zip(classes, report["confusion"]))
    measured = (f"held-out accuracy {acc:.3f} on {len(truth)} images the notebook never saw; recall per class: {recalls} "
                f"(confusion, rows = true class: {matrix})")
    if acc >= threshold and low >= need:
        return f"{measured}: at least {threshold:.2f} accuracy and {need:.2f} recall per class required"
    if acc < threshold:
        hint = (" — close to chance: check that the base's weights are pretrained (the data notes say when they were "
                "served as a random initialisation), that predict_xray prepares images like training, and that the "
                "head trains" if acc <= 1 / len(classes) + 0.08 else
                " — with a frozen base, keep it in eval mode (BatchNorm statistics) and train the head longer")
        raise Failed(f"{measured}, below the {threshold:.2f} accuracy required{hint}")
    worst = classes[report["recall"].index(low)]
    raise Failed(f"{measured}: the recall of {worst} is below the {need:.2f} required for every class — "
                 "with few images of a class, weight the loss by class or rebalance the batches")


MAX_UNPACKED_BYTES = 1 << 30


def _bounded_zip(path: Path) -> Any:
    """A zip archive the judge may read: at most ``MAX_UNPACKED_BYTES`` unpacked, entries no more than 100x
    their packed size (torch.save stores its entries uncompressed): a small file cannot unpack into gigabytes."""
    import zipfile
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None
    infos = archive.infolist()
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES or any(
            i.file_size > 100 * max(i.compress_size, 1) + 4096 for i in infos):
        archive.close()
        raise Failed(f"{path.name} unpacks to far more than its size: refused")
    return archive


def _state_dict(state: Any) -> dict[str, Any] | None:
    """The weights in a loaded file: a state_dict, or the dict of tensors inside a checkpoint
    (``{"model_state_dict": ..., "optimizer_state_dict": ...}``, ``{"model": ...}``): the one with most tensors."""
    import torch
    if not isinstance(state, dict):
        return None
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    nested = [_state_dict(v) for v in state.values() if isinstance(v, dict)]
    best = max([tensors] + [n for n in nested if n], key=len)
    return best or None


def _same_head(matrix: np.ndarray, head: np.ndarray | None) -> bool:
    if head is None:
        return False
    for candidate in (head, head.T):            # Keras stores (in, out), PyTorch (out, in)
        if candidate.shape == matrix.shape and np.allclose(candidate, matrix, atol=1e-6):
            return True
    return False


def saved_model(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The saved model next to the notebook, opened by the judge without running code (a PyTorch state_dict
    through ``torch.load(weights_only=True)``, a ``.keras`` archive's config read as JSON) and matched to the
    graded model: its 3-way output layer holds the same trained weights."""
    _found(evidence)
    head = None
    if evidence.get("head_file"):
        head = np.load(ctx.attachment(evidence["head_file"]), allow_pickle=False).astype("float64")
    candidates = [(ctx.work_dir / f) if ctx.work_dir else Path(f) for f in expect["files"]]
    found = [p for p in candidates if p.is_file() and not p.is_symlink()]
    if not found:
        raise Failed(f"no saved model next to the notebook: save it as {' or '.join(expect['files'][:2])}")
    path, outputs = found[0], int(expect["outputs"])
    archive = _bounded_zip(path)
    if path.suffix == ".keras":
        import json
        if archive is None or "config.json" not in archive.namelist():
            raise Failed(f"{path.name} is not a saved Keras model (model.save writes a zip with config.json)")
        with archive:
            if archive.getinfo("config.json").file_size > 16 * 2**20:
                raise Failed(f"{path.name}: its config.json is too large")
            try:
                config = json.loads(archive.read("config.json"))
            except ValueError:
                raise Failed(f"{path.name}: config.json is not JSON") from None
            has_weights = "model.weights.h5" in archive.namelist()
        units = [c.get("config", {}).get("units") for c in _keras_layer_configs(config) if isinstance(c.get("config"), dict)]
        units = [u for u in units if isinstance(u, int)]
        if not units or units[-1] != outputs:
            raise Failed(f"{path.name}: its last Dense layer has {units[-1] if units else 'no'} units, expected {outputs}")
        if not has_weights:
            raise Failed(f"{path.name} holds no weights (model.weights.h5): save the trained model with model.save(...)")
        return f"{path.name}: a saved Keras model with a {outputs}-way output"
    if archive is not None:
        archive.close()
    elif path.stat().st_size > MAX_UNPACKED_BYTES:
        raise Failed(f"{path.name} is larger than 1 GiB")
    import torch
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise Failed(f"{path.name} could not be loaded safely (torch.load(weights_only=True): {type(err).__name__}); "
                     "save the weights: torch.save(model.state_dict(), ...)") from None
    weights = _state_dict(state)
    if not weights:
        raise Failed(f"{path.name} holds no weights: save them with torch.save(model.state_dict(), ...)")
    heads = [v.detach().double().numpy() for v in weights.values() if v.dim() == 2 and outputs in v.shape]
    if not heads:
        raise Failed(f"{path.name} has no {outputs}-way output layer (no weight matrix with {outputs} outputs)")
    if not any(_same_head(h, head) for h in heads):
        raise Failed(f"the {outputs}-way output layer in {path.name} is not the one of your trained model "
                     f"`{evidence.get('name')}`: save it after training (torch.save(model.state_dict(), ...))")
    total = sum(int(t.numel()) for t in weights.values() if t.is_floating_point())
    return f"{path.name}: {len(weights)} tensors, {total:,} values; its output layer is your trained model's"


def _keras_layer_configs(config: Any) -> list[dict[str, Any]]:
    """Every layer config of a saved Keras model, nested models included, in order."""
    out = []
    if isinstance(config, dict):
        layers = config.get("config", {}).get("layers") if isinstance(config.get("config"), dict) else None
        if isinstance(layers, list):
            for layer in layers:
                out += _keras_layer_configs(layer) or [layer]
    return out


VERDICTS.update({"class_weights": class_weights, "frozen": frozen, "predict_files": predicted_files,
                 "saved": saved_model})
# ----------------------------------------------------------------------------- pooling_lenet_alexnet
def _pool_call(name: str, case: Mapping[str, Any]) -> str:
    args = ", ".join(repr(a) for a in case.get("args", []))
    return f"{name}(<array of shape {tuple(case['shape'])}>{', ' + args if args else ''})"


def _pool_mistake(got: np.ndarray, x: np.ndarray, args: list, mode: str) -> str | None:
    """A name for a wrong pooling output the judge recognises (the other pooling, zeros as padding)."""
    other = "min" if mode == "max" else "max"
    if np.allclose(got, formulas.pool_nhwc(x, *args, mode=other), atol=1e-9):
        return (f"it returns the {other}imum of each window, not the {mode}imum"
                + (" (min pooling is -maxpool(-x))" if mode == "min" else ""))
    padding = int(args[2]) if len(args) > 2 else 0
    if padding:
        k, s = int(args[0]), int(args[1]) if len(args) > 1 and args[1] else int(args[0])
        zeros = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        if np.allclose(got, formulas.pool_nhwc(zeros, k, s, 0, mode), atol=1e-9):
            return "the padding is counted as zeros: padded positions must never win (pad with -inf for max, +inf for min)"
    return None


def arrays(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """A pooling function on the grader's random batches (N, H, W, C), compared with the judge's own pooling
    (which agrees with Keras ``MaxPooling2D`` and ``nn.MaxPool2d``: tests/test_pooling_reference.py)."""
    _found(evidence)
    name, mode = request["function"], expect["mode"]
    errors = evidence.get("errors") if isinstance(evidence.get("errors"), dict) else {}
    with np.load(ctx.attachment(evidence.get("arrays", "")), allow_pickle=False) as f:
        outputs = {k: f[k] for k in f.files}
    wrong: list[tuple[Mapping[str, Any], str]] = []
    for i, case in enumerate(request["cases"]):
        x = formulas.random_tensor(case["shape"], case["seed"], case.get("ints", False))
        args = list(case.get("args", []))
        want = formulas.pool_nhwc(x, *args, mode=mode)
        if str(i) in errors:
            wrong.append((case, f"raised {errors[str(i)]}"))
            continue
        got = outputs.get(f"c{i}")
        if got is None or not np.issubdtype(got.dtype, np.number):
            wrong.append((case, "returned no array"))
        elif got.shape != want.shape:
            wrong.append((case, f"returned shape {got.shape}, expected {want.shape} (batch, rows, columns, channels)"))
        elif not np.allclose(got, want, rtol=1e-6, atol=1e-6):
            mistake = _pool_mistake(got, x, args, mode)
            wrong.append((case, f"returned wrong values: {mistake}" if mistake else "returned wrong values"))
    if not wrong:
        return f"`{name}` agrees with {mode} pooling on all {len(request['cases'])} test batches"
    named = [what for _, what in wrong if ": " in what and what.startswith("returned wrong values")]
    if ctx.hidden:
        why = f"; {named[0].split(': ', 1)[1]}" if named else ""
        raise Failed(f"`{name}` is wrong on {len(wrong)} of {len(request['cases'])} further test batches (odd sizes, "
                     f"stride different from the window, padding; their inputs are not shown){why}")
    case, what = wrong[0]
    raise Failed(f"{_pool_call(name, case)} {what}")


def example(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """A worked example: named arrays against the judge's own results on the notebook's feature map, and a
    named choice (a text naming one of the options)."""
    _found(evidence)
    got = evidence.get("values") or {}
    fmap = np.asarray(expect["feature_map"], dtype="float64")[None, :, :, None]
    for name, (mode, args) in expect["arrays"].items():
        if name not in got:
            raise Failed(f"no variable `{name}` found: store the pooled map under that name")
        try:
            value = np.squeeze(np.asarray(got[name], dtype="float64"))
        except (TypeError, ValueError):
            raise Failed(f"`{name}` is not an array of numbers") from None
        want = formulas.pool_nhwc(fmap, *args, mode=mode)[0, :, :, 0]
        if value.shape != want.shape or not np.allclose(value, want):
            other = formulas.pool_nhwc(fmap, *args, mode="min" if mode == "max" else "max")[0, :, :, 0]
            hint = f" — that is the {'min' if mode == 'max' else 'max'} pooling of the map" if (
                value.shape == want.shape and np.allclose(value, other)) else ""
            raise Failed(f"`{name}` = {np.round(value, 3).tolist()} is not the {mode} pooling of the feature map "
                         f"(window {args[0]}, stride {args[1]}){hint}")
    for name, (answer, options) in expect["choice"].items():
        value = got.get(name)
        text = value.get("str") if isinstance(value, dict) else None
        if not isinstance(text, str):
            raise Failed(f"no text `{name}` found: set it to one of {', '.join(map(repr, options))}")
        named = [o for o in options if o in text.lower()]
        if named != [answer]:
            raise Failed(f"`{name}` = {text!r}: look again at which pooled map still shows the bright line")
    return "; ".join(f"`{n}` right" for n in [*expect["arrays"], *expect["choice"]])


VERDICTS.update({"arrays": arrays, "example": example})


def _nhwc(shape: Any, framework: str) -> tuple[int, int, int] | None:
    """(rows, columns, channels) of a batch shape in the framework's layout."""
    if not isinstance(shape, list) or len(shape) != 4 or not all(isinstance(d, int) for d in shape):
        return None
    return (shape[2], shape[3], shape[1]) if framework == "torch" else (shape[1], shape[2], shape[3])


def _fmt_hwc(hwc: tuple[int, int, int]) -> str:
    return "x".join(map(str, hwc))


def stages(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The shape after each of the first convolutions and subsamplings (C1, S2, C3, S4) for the answer's own
    input size, against the judge's arithmetic for every accepted layout (C1 with or without padding)."""
    _found(evidence)
    framework = str(evidence.get("framework"))
    probe = _nhwc(evidence.get("input_shape"), framework)
    if probe is None:
        raise Failed("the input shape of your model could not be read")
    n = probe[0]
    names, widths, kernel, pool = expect["names"], expect["widths"], int(expect["kernel"]), int(expect["pool"])
    layouts = {}
    for p1, label in ((0, "no padding"), ((kernel - 1) // 2, "padding='same' in C1")):
        c1 = formulas.conv_output_size(n, kernel, p1, 1)
        s2 = formulas.conv_output_size(c1, pool, 0, pool)
        c3 = formulas.conv_output_size(s2, kernel, 0, 1)
        s4 = formulas.conv_output_size(c3, pool, 0, pool)
        if s4 > 0 and s4 * s4 * widths[1] in expect["c5_inputs"]:
            layouts[label] = [(c1, c1, widths[0]), (s2, s2, widths[0]), (c3, c3, widths[1]), (s4, s4, widths[1])]
    found = [s for s in evidence.get("stages") or [] if isinstance(s, dict) and s.get("kind") in ("conv", "pool")]
    got = [_nhwc(s.get("shape"), framework) for s in found][: len(names)]
    kinds = [s.get("kind") for s in found][: len(names)]
    shown = " -> ".join(f"{k} {_fmt_hwc(g) if g else '?'}" for k, g in zip(kinds, got)) or "no convolution or pooling"
    if not layouts:
        raise Failed(f"for your {n}x{n} input no LeNet-5 layout fits (32x32, or 28x28 with or without padding in C1); "
                     f"found {shown}")
    want_kinds = ["conv", "pool", "conv", "pool"]
    for label, want in layouts.items():
        if kinds == want_kinds and got == want:
            steps = ", ".join(f"{name} {_fmt_hwc(w)}" for name, w in zip(names, want))
            return f"for your {n}x{n} input ({label}): {steps}"
    expected = " or ".join(f"{' -> '.join(_fmt_hwc(w) for w in want)} ({label})" for label, want in layouts.items())
    raise Failed(f"for your {n}x{n}x{probe[2]} input, LeNet-5's C1, S2, C3, S4 give {expected}; your model gives {shown}")


VERDICTS["stages"] = stages


def _conv_facts(evidence: Mapping[str, Any], arrays: list[np.ndarray], framework: str) -> list[tuple[tuple[int, ...], int | None]]:
    """(kernel, stride) of each convolution: the kernel from the exported weights, the stride from the forward
    pass the kernel recorded (self-reported) when it saw as many convolutions."""
    kernels = [k for kind, _, k in _widths_from_weights(arrays, framework) if kind == "conv"]
    ops = [o for o in evidence.get("ops") or [] if isinstance(o, dict) and o.get("kind") == "conv"]
    strides: list[int | None] = [None] * len(kernels)
    if len(ops) == len(kernels):
        strides = [int(o["stride"][0]) if isinstance(o.get("stride"), list) and o["stride"] else None for o in ops]
    return list(zip(kernels, strides))


def alexnet(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """AlexNet's layer structure: 5 convolutions and 3 fully connected layers (from the weights), the first
    convolutions' kernels and strides of one of the accepted layouts (the variant is named)."""
    graded = model({"outputs": expect["outputs"]}, evidence, ctx, request)
    arch = expect["architecture"]
    framework = str(evidence.get("framework"))
    arrays = _weights(evidence, ctx)
    layers = _widths_from_weights(arrays, framework)
    convs = _conv_facts(evidence, arrays, framework)
    dense = [w for kind, w, _ in layers if kind == "dense"]
    if len(convs) != arch["convs"] or len(dense) != arch["dense"]:
        raise Failed(f"{graded}: AlexNet has {arch['convs']} convolutional and {arch['dense']} fully connected layers; "
                     f"found {len(convs)} and {len(dense)}")
    shown = ", ".join(f"{'x'.join(map(str, k))}" + (f"/{s}" if s else "") for k, s in convs)

    def fits(rule: tuple[tuple[int, ...], tuple[int, ...]], conv: tuple[tuple[int, ...], int | None]) -> bool:
        (kernels, strides), (kernel, stride) = rule, conv
        return len(set(kernel)) == 1 and kernel[0] in kernels and (stride is None or stride in strides)
    for variant in arch["variants"]:
        rules = [tuple(map(tuple, r)) for r in variant["first"]]
        rules += [((arch["later_kernel"],), (1,))] * (len(convs) - len(rules))
        if all(fits(rule, conv) for rule, conv in zip(rules, convs)):
            return f"{graded}: AlexNet, {variant['name']}; convolutions {shown}, dense {' -> '.join(map(str, dense))}"
    raise Failed(f"{graded}: AlexNet's convolutions are 11x11 with stride 4, then 5x5, then three 3x3 (or, in the "
                 "small-input variant for 28x28-32x32 images, 3x3 or 5x5 at stride 1 for the first two, then three 3x3); "
                 f"found {shown} (kernel/stride)")


def alexnet_parts(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """ReLU, overlapping max-pooling and dropout, read from the operations a forward pass ran (PyTorch)
    or from the layers (Keras)."""
    _found(evidence)
    ops = [o for o in evidence.get("ops") or [] if isinstance(o, dict)]
    if not ops:
        raise Failed("the layers your model runs could not be read" + (f" ({evidence['ops_error']})" if evidence.get("ops_error") else ""))
    pools = [o for o in ops if o.get("kind") == "pool" and "max" in str(o.get("class")).lower()]
    overlapping = [o for o in pools if isinstance(o.get("kernel"), list) and isinstance(o.get("stride"), list)
                   and o["kernel"] and o["stride"] and o["kernel"][0] > o["stride"][0]]
    dropout = [o for o in ops if o.get("kind") == "dropout" and (_number(o.get("p")) or 0) > 0]
    missing = []
    if not any(o.get("kind") == "relu" for o in ops):
        missing.append("no ReLU activation (AlexNet uses ReLU after every convolution and hidden dense layer)")
    if not overlapping:
        seen = ", ".join(f"{'x'.join(map(str, o.get('kernel') or []))}/{(o.get('stride') or ['?'])[0]}" for o in pools)
        missing.append("no overlapping max-pooling (a 3x3 window with stride 2: windows overlap)"
                       + (f"; your max-pooling: {seen}" if seen else "; no max-pooling found"))
    if not dropout:
        missing.append("no dropout (AlexNet uses dropout, p=0.5, before its first two fully connected layers)")
    if missing:
        raise Failed(f"your model `{evidence.get('name')}`: " + "; ".join(missing))
    return (f"ReLU, overlapping max-pooling ({len(overlapping)} layer(s), {'x'.join(map(str, overlapping[0]['kernel']))} "
            f"windows at stride {overlapping[0]['stride'][0]}) and dropout ({len(dropout)} layer(s), "
            f"p={_number(dropout[0].get('p')):g})")


def _layout_params(layout: Mapping[str, Any], classes: int) -> int:
    """Parameters of an AlexNet layout: its convolutions (kernel, in, out) and dense layers, for ``classes``."""
    convs = sum(formulas.conv_params(k, k, cin, cout) for k, cin, cout in layout["convs"])
    widths = [layout["flat"], *layout["hidden"], classes]
    return convs + sum(formulas.dense_params(a, b) for a, b in zip(widths, widths[1:]))


def alexnet_params(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """The parameter count the answer reports agrees with its model; a classic-size AlexNet (224x224 or
    227x227x3, 10 classes) has the count of one of the known layouts, computed here."""
    _found(evidence)
    framework = str(evidence.get("framework"))
    measured = int(sum(a.size for a in _weights(evidence, ctx)))
    hwc = _nhwc(evidence.get("input_shape"), framework)
    shape = evidence.get("output_shape")
    classes = shape[-1] if isinstance(shape, list) and shape and isinstance(shape[-1], int) else None
    note = ""
    if hwc and hwc[0] in expect["classic_sizes"] and hwc[2] == 3 and classes == expect["classes"]:
        known = {name: _layout_params(layout, classes) for name, layout in expect["layouts"].items()}
        if measured not in known.values():
            accepted = "; ".join(f"{count:,} ({name})" for name, count in known.items())
            raise Failed(f"your AlexNet for {hwc[0]}x{hwc[1]}x3 images and {classes} classes has {measured:,} parameters, "
                         f"not the count of an AlexNet layout: {accepted}")
        note = f" ({next(n for n, c in known.items() if c == measured)} for {hwc[0]}x{hwc[1]}x3 and {classes} classes)"
    reported = evidence.get("reported_params")
    if not isinstance(reported, list) or len(reported) != 2:
        raise Failed(f"your model has {measured:,} parameters, but no reported count was found: store it as "
                     "`n_params` (e.g. sum(p.numel() for p in model.parameters()) or model.count_params())")
    name, value = str(reported[0]), _number(reported[1])
    if value != measured:
        shown = f"{value:,.0f}" if value is not None and value == int(value) else repr(reported[1])
        raise Failed(f"you report `{name}` = {shown}, your model `{evidence.get('name')}` has {measured:,} parameters")
    return f"`{name}` = {measured:,} parameters, the count of your model{note}"


def eval_mode(expect: Mapping[str, Any], evidence: Mapping[str, Any], ctx: Context, request: Mapping[str, Any]) -> str:
    """A PyTorch model evaluated in training mode (``model.eval()`` never called) measures its accuracy with
    dropout active: its layers are still in training mode after the answer's evaluation."""
    _found(evidence)
    name = evidence.get("name")
    if evidence.get("framework") != "torch":
        return f"`{name}`: Keras' evaluate and predict always run dropout in inference mode"
    active = [str(n) for n in evidence.get("train_mode_layers") or []]
    last = evidence.get("last_evaluation")
    if isinstance(last, dict):              # the answer's last forward pass without gradients, seen by the hook
        if last.get("training") is True:
            raise Failed(f"your model `{name}` was evaluated in training mode: its Dropout layers were active in "
                         "your last forward pass under torch.no_grad() (dropout zeroes half the activations at random, "
                         f"so the accuracy you report is too low and changes from run to run); call `{name}.eval()` "
                         f"before evaluating, and `{name}.train()` before training again")
        return f"`{name}` was evaluated in eval mode (dropout off)"
    if evidence.get("training") is True and active:
        raise Failed(f"your model `{name}` is still in training mode after your evaluation: its {', '.join(active)} "
                     f"layers were active when you measured the accuracy (dropout zeroes half the activations at random, "
                     f"so the accuracy you report is too low and changes from run to run); call `{name}.eval()` before "
                     f"evaluating, and `{name}.train()` before training again")
    return f"`{name}` was evaluated in eval mode (dropout off)"


VERDICTS.update({"architecture": alexnet, "alexnet_parts": alexnet_parts, "alexnet_params": alexnet_params,
                 "eval_mode": eval_mode})
