"""The judge: verdicts from evidence it treats as untrusted, with answers the sandbox never sees."""
import json

import numpy as np
import pytest

from autograder import judge
from autograder.judge import specs

F = "cnn_foundations"


def _judge(tmp_path, key, evidence, *, private=None, work=None):
    return judge.judge_one(key, evidence, profile="smoke", evidence_dir=tmp_path, work_dir=work,
                           private_dir=private)


def test_cells_are_read_from_the_trusted_source():
    source = 'from autograder.kernel import check\ncheck("a.b")\n### BEGIN HIDDEN TESTS\ncheck("a.b", hidden=True)\n'
    assert judge.checks_of(source) == ["a.b", "a.b#hidden"]
    assert judge.checks_of("assert square(3) == 9") == []


def test_requests_carry_inputs_never_answers_or_thresholds():
    keys = list(specs.SPECS)
    requests = json.dumps(judge.requests(keys, "smoke"))
    budgets = json.dumps(judge.budgets(keys, "smoke"))
    assert "min_accuracy" not in requests + budgets and "min_correct" not in requests
    assert "reference" not in requests and "expect" not in requests
    assert json.loads(budgets)["questions"][f"{F}.q9"]["image_size"] == 64


def test_missing_or_malformed_evidence_fails(tmp_path):
    ok, message, _ = _judge(tmp_path, f"{F}.q2", None)
    assert not ok and "did not run" in message
    ok, message, _ = _judge(tmp_path, f"{F}.q6.model", {"name": "m", "weights": {"file": "../../etc/passwd"}})
    assert not ok


def test_function_values_visible_cases_are_named_hidden_ones_are_not(tmp_path):
    request = judge.requests([f"{F}.q2", f"{F}.q2#hidden"], "smoke")
    right = [{"value": (n + 2 * p - f) // s + 1} for n, f, p, s in request[f"{F}.q2"]["cases"]]
    assert _judge(tmp_path, f"{F}.q2", {"values": right})[0]
    rounded = [{"value": round((n + 2 * p - f) / s) + 1} for n, f, p, s in request[f"{F}.q2#hidden"]["cases"]]
    ok, message, _ = _judge(tmp_path, f"{F}.q2#hidden", {"values": rounded})
    assert not ok and "further test cases" in message
    assert not any(f"({n}, {f}, {p}, {s})" in message for n, f, p, s in request[f"{F}.q2#hidden"]["cases"])
    wrong = [{"value": 0}] + right[1:]
    ok, message, _ = _judge(tmp_path, f"{F}.q2", {"values": wrong})
    assert not ok and "conv_output_size(32, 5, 0, 1) returned 0, expected 28" in message
    ok, _, _ = _judge(tmp_path, f"{F}.q2", {"values": [{"value": True}] * 3})
    assert not ok                                     # a bool is not a size


def _model_evidence(tmp_path, arrays, *, shape, framework="keras", name="net"):
    np.savez(tmp_path / "w.npz", **{f"w{i:04d}": a for i, a in enumerate(arrays)})
    return {"name": name, "framework": framework, "class": "Sequential", "output_shape": shape,
            "input_shape": [1, 28, 28, 1], "params": int(sum(a.size for a in arrays)), "weights": {"file": "w.npz"}}


def test_model_structure_is_read_from_the_exported_weights(tmp_path):
    good = [np.zeros((3, 3, 1, 8)), np.zeros(8), np.zeros((1352, 10)), np.zeros(10)]
    ok, message, _ = _judge(tmp_path, f"{F}.q6.model", _model_evidence(tmp_path, good, shape=[1, 10]))
    assert ok and "graded your model `net` (Keras Sequential, 13,610 parameters)" in message
    regression = [np.zeros((3, 3, 1, 8)), np.zeros(8), np.zeros((1352, 1)), np.zeros(1)]
    ok, message, _ = _judge(tmp_path, f"{F}.q6.model", _model_evidence(tmp_path, regression, shape=[1, 1]))
    assert not ok and "expected output shape (None, 10), got (None, 1)" in message
    # a kernel that claims 10 outputs while its weights end in 1 unit is not believed
    ok, _, _ = _judge(tmp_path, f"{F}.q6.model", _model_evidence(tmp_path, regression, shape=[1, 10]))
    assert not ok
    mlp = [np.zeros((784, 10)), np.zeros(10)]
    ok, message, _ = _judge(tmp_path, f"{F}.q6.model", _model_evidence(tmp_path, mlp, shape=[1, 10]))
    assert not ok and "conv -> dense" in message


def test_heldout_accuracy_is_measured_against_private_labels(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    labels = np.arange(500) % 10
    np.save(private / "mnist.npy", labels)
    np.save(tmp_path / "s.npy", np.eye(10, dtype="float32")[labels])
    evidence = {"scores": "s.npy", "how": "scaled to [0, 1]", "reported": ["score", 0.99]}
    ok, message, review = _judge(tmp_path, f"{F}.q6.accuracy#hidden", evidence, private=private)
    assert ok and "held-out accuracy 1.000" in message and review == []
    np.save(tmp_path / "s.npy", np.eye(10, dtype="float32")[np.zeros(500, int)])
    ok, message, review = _judge(tmp_path, f"{F}.q6.accuracy#hidden", evidence, private=private)
    assert not ok and "below the 0.90 required" in message and "chance" in message
    assert review and "reported `score` = 0.990" in review[0]


def test_files_are_looked_at_by_the_judge_itself(tmp_path):
    ok, message, _ = _judge(tmp_path, f"{F}.q10.saved", {}, work=tmp_path)
    assert not ok and "xray_model.keras was not found" in message
    (tmp_path / "xray_model.keras").write_bytes(b"zip")
    ok, message, _ = _judge(tmp_path, f"{F}.q10.saved", {}, work=tmp_path)
    assert not ok and "not a saved Keras model" in message
    import zipfile
    with zipfile.ZipFile(tmp_path / "xray_model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    assert _judge(tmp_path, f"{F}.q10.saved", {}, work=tmp_path)[0]


def _batch(name, shape, dtype="torch.float32", size=4000):
    return {"name": name, "how": "", "shape": shape, "dtype": dtype, "min": 0.0, "max": 1.0,
            "labels": shape[0], "size": size}


def test_loaders_right_and_wrong(tmp_path):
    good = {"train": _batch("trainloader", [64, 1, 28, 28]), "test": _batch("testloader", [1000, 1, 28, 28], size=500)}
    assert _judge(tmp_path, f"{F}.q8.loaders", good)[0]
    flat = dict(good, test=_batch("testloader", [1000, 784], size=500))
    ok, message, _ = _judge(tmp_path, f"{F}.q8.loaders", flat)
    assert not ok and "(batch, 1, 28, 28)" in message
    ints = dict(good, train=_batch("trainloader", [64, 1, 28, 28], dtype="torch.uint8"))
    assert not _judge(tmp_path, f"{F}.q8.loaders", ints)[0]
    ok, message, _ = _judge(tmp_path, f"{F}.q8.loaders", dict(good, test=None))
    assert not ok and "no test DataLoader" in message


def test_preprocessed_images_scaled_or_standardised_not_raw(tmp_path):
    facts = {"name": "x_train", "shape": [10000, 32, 32, 3], "dtype": "float32"}
    assert _judge(tmp_path, f"{F}.q7.preprocess", dict(facts, min=0.0, max=1.0, mean=0.3, std=0.3))[0]
    assert _judge(tmp_path, f"{F}.q7.preprocess", dict(facts, min=-1.1, max=2.5, mean=0.0, std=1.0))[0]
    ok, message, _ = _judge(tmp_path, f"{F}.q7.preprocess", dict(facts, min=0.0, max=255.0, mean=80.0, std=70.0))
    assert not ok and "scaled to [0, 1]" in message
    ok, message, _ = _judge(tmp_path, f"{F}.q7.preprocess", dict(facts, dtype="uint8", min=0, max=1, mean=0.3, std=0.3))
    assert not ok and "as floats" in message
    ok, _, _ = _judge(tmp_path, f"{F}.q7.preprocess", dict(facts, shape=[10000, 32, 32], min=0, max=1, mean=0.3, std=0.3))
    assert not ok


def test_iterator_and_history(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (private / "custom_images.json").write_text(json.dumps({"classes": ["a", "b"], "labels": {}}))
    facts = {"name": "train_gen", "class_indices": {"a": 0, "b": 1}, "image_shape": [64, 64, 3], "max": 1.0}
    assert _judge(tmp_path, f"{F}.q9.iterator", facts, private=private)[0]
    ok, message, _ = _judge(tmp_path, f"{F}.q9.iterator", dict(facts, max=255.0), private=private)
    assert not ok and "rescale" in message
    ok, message, _ = _judge(tmp_path, f"{F}.q9.iterator", dict(facts, image_shape=[32, 32, 3]), private=private)
    assert not ok and "target_size=(64, 64)" in message
    assert _judge(tmp_path, f"{F}.q9.model#hidden", {"name": "h", "metrics": {"val_acc": [0.5, 0.7]}})[0]
    ok, message, _ = _judge(tmp_path, f"{F}.q9.model#hidden", {"name": "h", "metrics": {"accuracy": [0.5]}})
    assert not ok and "validation_data" in message


def _xray_app(tmp_path):
    """Private labels of six test X-rays, and the evidence of an app that labels them all right."""
    private = tmp_path / "private"
    private.mkdir()
    files = {f"{i:05d}.png": i % 2 for i in range(6)}
    (private / "chest_xray.json").write_text(json.dumps({"classes": ["NORMAL", "PNEUMONIA"], "labels": files}))
    names = ["Normal", "Pneumonia"]
    uploads = [{"file": f, "label": names[y], "probability": 0.9} for f, y in files.items()]
    return private, {"uploads": uploads, "bad_upload": {"error_shown": True, "exception": "", "problem": ""}}


def test_app_needs_right_labels_and_a_clean_error(tmp_path):
    private, good = _xray_app(tmp_path)
    uploads = good["uploads"]
    assert _judge(tmp_path, f"{F}.q10.app#hidden", good, private=private)[0]
    always_normal = dict(good, uploads=[dict(u, label="Normal") for u in uploads])
    ok, message, _ = _judge(tmp_path, f"{F}.q10.app#hidden", always_normal, private=private)
    assert not ok and "3 of 6" in message
    crashed = dict(good, bad_upload={"error_shown": False, "exception": "UnidentifiedImageError", "problem": ""})
    ok, message, _ = _judge(tmp_path, f"{F}.q10.app#hidden", crashed, private=private)
    assert not ok and "crashed the app" in message


def test_the_app_is_judged_from_the_graders_own_probe_run_never_the_kernels(tmp_path):
    private, perfect = _xray_app(tmp_path)
    crashed = dict(perfect, bad_upload={"error_shown": False, "exception": "UnidentifiedImageError", "problem": ""})
    key = f"{F}.q10.app#hidden"
    assert judge.requests([key], "smoke")[key]["deferred"] is True       # the kernel does not run the app
    kernel, probe = tmp_path / "evidence", tmp_path / "probe"
    kernel.mkdir()
    probe.mkdir()
    source = {"q10_app_tests": f'check("{F}.q10.app", hidden=True)'}
    (kernel / "cnn_foundations.q10.app__hidden.json").write_text(json.dumps(perfect))   # forged in the kernel
    (probe / "cnn_foundations.q10.app__hidden.json").write_text(json.dumps(crashed))    # what the app really did
    verdict = judge.judge_cells(source, profile="smoke", evidence_dir=kernel, work_dir=None, private_dir=private,
                                probe_dir=probe)["q10_app_tests"]
    assert not verdict.passed and "crashed the app" in verdict.messages[0]
    (probe / "cnn_foundations.q10.app__hidden.json").write_text(json.dumps(perfect))
    assert judge.judge_cells(source, profile="smoke", evidence_dir=kernel, work_dir=None, private_dir=private,
                             probe_dir=probe)["q10_app_tests"].passed
    (kernel / "cnn_foundations.q10.app__hidden.json").unlink()                          # the cell never ran
    assert not judge.judge_cells(source, profile="smoke", evidence_dir=kernel, work_dir=None, private_dir=private,
                                 probe_dir=probe)["q10_app_tests"].passed


def _lenet(framework="keras", *, c1=6, c5_inputs=400, kernel=5, conv_c5=False):
    """LeNet-5 weights as the framework stores them (conv: HWIO in Keras, OIHW in torch)."""
    conv = (lambda o, i, k: np.zeros((o, i, k, k))) if framework == "torch" else (lambda o, i, k: np.zeros((k, k, i, o)))
    dense = (lambda i, o: np.zeros((o, i))) if framework == "torch" else (lambda i, o: np.zeros((i, o)))
    arrays = [conv(c1, 1, kernel), np.zeros(c1), conv(16, c1, kernel), np.zeros(16)]
    arrays += [conv(120, 16, 5) if conv_c5 else dense(c5_inputs, 120), np.zeros(120)]
    return arrays + [dense(120, 84), np.zeros(84), dense(84, 10), np.zeros(10)]


def test_lenet5_structure_and_its_accepted_variants(tmp_path):
    expect = {"outputs": (10,), "architecture": specs.LENET5}
    ctx = judge.verdicts.Context(tmp_path, None, None, {}, hidden=False, question="q", profile="smoke")

    def verdict(arrays, framework="keras"):
        evidence = _model_evidence(tmp_path, arrays, shape=[1, 10], framework=framework)
        try:
            return True, judge.verdicts.model(expect, evidence, ctx, {})
        except judge.verdicts.Failed as failed:
            return False, str(failed)

    ok, message = verdict(_lenet())                                   # Flatten + Dense(120) on 5x5x16
    assert ok and "61,706 parameters" in message and "classic 32x32" in message
    assert verdict(_lenet("torch"), "torch")[0] and verdict(_lenet(conv_c5=True))[0]   # C5 as a 5x5 conv
    ok, message = verdict(_lenet(c5_inputs=256))
    assert ok and "44,426" in message and "256 inputs" in message
    ok, message = verdict(_lenet(c1=8))                               # wrong filter count
    assert not ok and "found conv 8 -> conv 16" in message
    ok, message = verdict(_lenet(kernel=3, c5_inputs=400))            # 3x3 kernels
    assert not ok and "5x5" in message
    ok, message = verdict(_lenet(c5_inputs=576))                      # an unknown layout
    assert not ok and "not a LeNet-5 layout" in message


def test_fit_diagnosis_is_judged_by_the_verdict_it_names(tmp_path):
    key = "cnn_architectures.q9.diagnosis#hidden"
    cases = specs.SPECS[key].request["cases"]
    from autograder.checks.formulas import fit_diagnosis
    truth = [fit_diagnosis(*case) for case in cases]
    assert set(truth) == {"overfitting", "underfitting", "good fit"}       # every verdict is exercised
    words = {"overfitting": "The model overfits: validation accuracy stalls",
             "underfitting": "underfitting, both accuracies stay low", "good fit": "a good fit"}
    right = {"function": "diagnose_fit", "values": [{"value": {"str": words[t]}} for t in truth]}
    ok, message, _ = _judge(tmp_path, key, right)
    assert ok, message
    always_over = {"function": "diagnose_fit", "values": [{"value": {"str": "overfitting"}} for _ in truth]}
    ok, message, _ = _judge(tmp_path, key, always_over)
    assert not ok and "inputs are not shown" in message
    hedged = {"function": "diagnose_fit", "values": [{"value": {"str": "overfitting or underfitting"}} for _ in truth]}
    assert not _judge(tmp_path, key, hedged)[0]
    numbers = {"function": "diagnose_fit", "values": [{"value": 1} for _ in truth]}
    assert not _judge(tmp_path, key, numbers)[0]
    ok, message, _ = _judge(tmp_path, "cnn_architectures.q9.diagnosis", dict(always_over, values=always_over["values"][:2]))
    assert not ok and "expected a diagnosis naming 'underfitting'" in message


def test_the_kernel_exports_a_returned_text_as_text_and_other_objects_as_a_repr(tmp_path):
    from autograder.kernel import evidence
    ns = {"diagnose_fit": lambda h: "overfitting" if h["accuracy"][-1] > 0.9 else object()}
    request = {"function": "diagnose_fit", "cases": [[{"accuracy": [0.99]}], [{"accuracy": [0.5]}]]}
    values = evidence.function_values(request, ns, tmp_path / "x")["values"]
    assert values[0] == {"value": {"str": "overfitting"}} and "repr" in values[1]["value"]


def test_dense_vs_conv_parameter_counts_right_and_wrong(tmp_path):
    for key, wrong in (("cnn_architectures.q1.dense#hidden", lambda h, w, c, n: h * w * c * n),       # no bias
                       ("cnn_architectures.q1.conv#hidden", lambda h, w, c, n, k: h * w * k * k * c * n)):  # per pixel
        from autograder.judge.verdicts import REFERENCES
        cases = specs.SPECS[key].request["cases"]
        name = specs.SPECS[key].request["function"]
        right = {"function": name, "values": [{"value": REFERENCES[name](*c)} for c in cases]}
        assert _judge(tmp_path, key, right)[0]
        bad = {"function": name, "values": [{"value": wrong(*c)} for c in cases]}
        ok, message, _ = _judge(tmp_path, key, bad)
        assert not ok and "inputs are not shown" in message


def test_parameter_counts_of_real_models_right_and_wrong(tmp_path):
    key = "cnn_architectures.q3.counts"
    ok, message, _ = _judge(tmp_path, key, {"values": {"alexnet_params": 61_100_840, "vgg16_params": 138_357_544}})
    assert ok, message
    ok, message, _ = _judge(tmp_path, key, {"values": {"alexnet_params": 62_378_344, "vgg16_params": 138_357_544}})
    assert not ok and "alexnet_params" in message                 # the original two-GPU paper's count
    ok, message, _ = _judge(tmp_path, key, {"values": {"vgg16_params": 138_357_544}})
    assert not ok and "no variable `alexnet_params`" in message
    ok, _, _ = _judge(tmp_path, key, {"values": {"alexnet_params": {"str": "61100840"}, "vgg16_params": 138_357_544}})
    assert not ok                                                  # text is not a count


def _residual_classes():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class ResidualBlock(nn.Module):
        def __init__(self, channels, skip=True):
            super().__init__()
            self.skip = skip
            self.conv1, self.conv2 = nn.Conv2d(channels, channels, 3, padding=1), nn.Conv2d(channels, channels, 3, padding=1)
            self.bn1, self.bn2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)

        def residual(self, x):
            return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

        def forward(self, x):
            out = self.residual(x)
            return F.relu(out + x if self.skip else out)

    class ForgetsTheShortcut(ResidualBlock):
        def forward(self, x):
            return F.relu(self.residual(x))

    class ScalesInstead(ResidualBlock):          # skip=True multiplies: no shortcut, a larger gradient
        def forward(self, x):
            return F.relu(3 * self.residual(x) if self.skip else self.residual(x))

    class ConvShortcut(ResidualBlock):           # "adds the input" through another convolution
        def forward(self, x):
            return F.relu(self.residual(x) + self.conv1(x) if self.skip else self.residual(x))

    class Shrinks(ResidualBlock):
        def __init__(self, channels, skip=True):
            super().__init__(channels, skip)
            self.conv2 = nn.Conv2d(channels, channels, 3)

        def forward(self, x):
            return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
    classes = (ResidualBlock, ForgetsTheShortcut, ScalesInstead, ConvShortcut, Shrinks)
    for cls in classes:
        cls.__module__ = "__main__"
    return classes


def test_residual_block_keeps_shape_and_gradient_and_a_block_without_shortcut_fails(tmp_path):
    from autograder.kernel import evidence
    right, no_shortcut, scales, conv_shortcut, shrinks = _residual_classes()
    for key in ("cnn_architectures.q5.block", "cnn_architectures.q5.block#hidden"):
        request = judge.requests([key], "smoke")[key]
        facts = evidence.residual_facts(request, {"ResidualBlock": right}, tmp_path / "r")
        ok, message, _ = _judge(tmp_path, key, facts)
        assert ok, message
        for wrong in (no_shortcut, scales, conv_shortcut):
            facts = evidence.residual_facts(request, {"MyBlock": wrong}, tmp_path / "r")     # found by kind
            ok, message, _ = _judge(tmp_path, key, facts)
            assert not ok and "does not return its input" in message and facts["name"] == "MyBlock", wrong
        facts = evidence.residual_facts(request, {"ResidualBlock": shrinks}, tmp_path / "r")
        ok, message, _ = _judge(tmp_path, key, facts)
        assert not ok and "keep the shape" in message
        if key.endswith("#hidden"):
            assert "(2, 6, 9, 9)" not in message and "30" not in message      # hidden inputs are not named
    forged = {"name": "B", "input_shape": [], "output_shape": [], "zeroed_skip_vs_input": 0.0, "zeroed_plain_max": 0.0,
              "grad_skip": float("nan"), "grad_plain": -1.0}
    assert not _judge(tmp_path, "cnn_architectures.q5.block", forged)[0]      # shape from the request, finite values
    missing = evidence.collect("cnn_architectures.q5.block", judge.requests(["cnn_architectures.q5.block"], "smoke")
                               ["cnn_architectures.q5.block"], {}, tmp_path)
    assert not _judge(tmp_path, "cnn_architectures.q5.block", missing)[0] and "ResidualBlock" in missing["missing"]


def test_training_time_reported_against_the_time_the_grader_saw(tmp_path):
    from autograder.kernel import discover
    key = "cnn_architectures.q6.time"

    def verdict(measured, reported):
        return _judge(tmp_path, key, {"name": "model", "measured_s": measured, "reported": reported})

    ok, message, _ = verdict(10.0, ["training_time", 11.5])
    assert ok and "10.0 s" in message
    ok, message, _ = verdict(10.0, ["training_time", 0.01])
    assert not ok and "timed the training at 10.0 s" in message      # e.g. timed only model.compile
    assert not verdict(2.0, ["training_time", 0.05])[0]               # a short run: still a factor, not 3 s of slack
    assert not verdict(2.0, ["training_time", 2.0 / 60])[0]           # minutes, not seconds
    assert verdict(0.3, ["training_time", 0.6])[0]                    # below the floor: within 0.5 s
    ok, message, _ = verdict(10.0, None)
    assert not ok and "no reported training time" in message
    assert not verdict(None, ["t", 3.0])[0]
    assert not verdict(10.0, ["t", float("nan")])[0] and not verdict(10.0, ["t", "10"])[0]
    import datetime
    assert discover.reported_seconds({"training_time": 4.2, "elapsed": 9}) == ("training_time", 4.2)
    assert discover.reported_seconds({"fit_seconds": datetime.timedelta(seconds=7)}) == ("fit_seconds", 7.0)
    assert discover.reported_seconds({"t_train": 3.0}) == ("t_train", 3.0)
    assert discover.reported_seconds({"elapsed": 9.0, "train_time_s": 3.0}) == ("train_time_s", 3.0)
    assert discover.reported_seconds({"time_per_epoch": 1.0}) is None
    assert discover.reported_seconds({"start_time": 1.7e9 % 1e5, "elapsed": 5.0}) == ("elapsed", 5.0)
    assert discover.reported_seconds({"t_time": 3.0, "wall_time": 1.0}) is None          # ambiguous
    assert discover.reported_seconds({"time": __import__("time")}) is None


def test_lenet_inputs_are_probed_in_the_answers_framework_and_size(tmp_path, monkeypatch):
    import keras
    from autograder.kernel import env, evidence
    request = judge.requests(["cnn_architectures.q6.model"], "smoke")["cnn_architectures.q6.model"]
    keras32 = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    keras28 = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert evidence._input_shape(keras32, "keras", request) == [1, 32, 32, 1]
    assert evidence._input_shape(keras28, "keras", request) == [1, 28, 28, 1]
    assert evidence._fits(request)(keras28) and evidence._fits(request)(keras32)
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=raw, y_train=np.zeros(40), x_test=raw, y_test=np.zeros(40))
    monkeypatch.setenv(env.DATA, str(tmp_path))
    heldout = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    ns = {"x_test": raw[..., None] / 255.0, "x_test_pad": np.pad(raw, ((0, 0), (2, 2), (2, 2)))[..., None] / 255.0}
    x, how = evidence._keras_inputs(keras32, ns, "mnist", heldout)       # both copies: the one the model takes
    assert x.shape == (5, 32, 32, 1) and "x_test_pad" in how
    x, how = evidence._keras_inputs(keras32, {}, "mnist", heldout)       # no copy: scaled and padded to fit
    assert x.shape == (5, 32, 32, 1) and np.allclose(x[:, 2:-2, 2:-2, 0], heldout / 255.0)


def test_a_torch_lenet_on_32x32_gets_padded_heldout_digits_without_a_transform(tmp_path):
    import torch
    from autograder.kernel import evidence
    request = judge.requests(["cnn_architectures.q6.accuracy#hidden"], "smoke")["cnn_architectures.q6.accuracy#hidden"]
    net32 = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 10))
    assert evidence._input_shape(net32, "torch", request) == [2, 1, 32, 32]
    heldout = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    x, how = evidence._torch_inputs(net32, {}, heldout, request)
    assert x.shape == (3, 1, 32, 32) and "zero-padded to 32x32" in how
    net28 = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
    assert evidence._torch_inputs(net28, {}, heldout, request)[0].shape == (3, 1, 28, 28)


def test_a_padded_test_split_is_matched_and_the_heldout_images_padded_alike(tmp_path, monkeypatch):
    from autograder.kernel import env, evidence
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=raw, y_train=np.zeros(50), x_test=raw, y_test=np.zeros(50))
    monkeypatch.setenv(env.DATA, str(tmp_path))
    padded = np.pad(raw, ((0, 0), (2, 2), (2, 2)))[..., None].astype("float32") / 255.0
    heldout = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    x, how = evidence._keras_inputs(object(), {"x_test": padded}, "mnist", heldout)
    assert x.shape == (7, 32, 32, 1) and "padded by 2" in how
    assert np.allclose(x[:, 2:-2, 2:-2, 0], heldout / 255.0, atol=1e-6) and x[:, :2].max() == 0


def _keras_inception(*, join=True, five=5, pool=True):
    import keras
    from keras import layers
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    b1 = layers.Conv2D(4, 1)(x)
    b3 = layers.Conv2D(4, 3, padding="same")(layers.Conv2D(4, 1)(x))
    b5 = layers.Conv2D(4, five, padding="same")(layers.Conv2D(4, 1)(x))
    bp = layers.Conv2D(4, 1)(layers.MaxPooling2D(3, 1, padding="same")(x) if pool else x)
    y = layers.Concatenate()([b1, b3, b5, bp]) if join else layers.Add()([b1, b3, b5, bp])
    return keras.Model(inputs, layers.Dense(10)(layers.GlobalAveragePooling2D()(y)))


def _torch_inception(factorised=False):
    import torch
    from torch import nn

    class Inception(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.b1 = nn.Conv2d(8, 4, 1)
            self.b3 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
            five = [nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1)] if factorised \
                else [nn.Conv2d(4, 4, 5, padding=2)]
            self.b5 = nn.Sequential(nn.Conv2d(8, 4, 1), *five)
            self.bp = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(8, 4, 1))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

        def forward(self, x):
            x = torch.relu(self.stem(x))
            return self.head(torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1))
    return Inception()


def test_inception_modules_are_read_from_the_layer_graph_in_both_frameworks(tmp_path):
    from autograder.kernel import evidence
    key = "cnn_architectures.q9.inception"
    request = judge.requests([key], "smoke")[key]
    for model in (_keras_inception(), _torch_inception(), _torch_inception(True)):
        facts = evidence.graph_facts(request, {"model": model}, tmp_path / "g")
        ok, message, _ = _judge(tmp_path, key, facts)
        assert ok and "1 Inception module" in message, message
    for wrong, why in ((_keras_inception(join=False), "found no concatenation"),      # branches added, not joined
                       (_keras_inception(pool=False), "found concatenations of"),      # no pooling branch
                       (_keras_inception(five=1), "found concatenations of")):         # no 5x5 view
        facts = evidence.graph_facts(request, {"model": wrong}, tmp_path / "g")
        ok, message, _ = _judge(tmp_path, key, facts)
        assert not ok and why in message, message
    forged = {"name": "m", "graph": {"nodes": [{"id": 1}, {"id": "c", "op": "concat", "inputs": "abc"}]}}
    ok, message, _ = _judge(tmp_path, key, forged)
    assert not ok and "no Inception module" in message                     # a clean verdict, not a crash


def _graph(branches, *, fork="x"):
    """A layer graph: ``fork`` -> each branch (a list of (op, kernel)) -> one concatenation."""
    nodes, joins = [{"id": fork, "op": "other", "inputs": []}], []
    for b, ops in enumerate(branches):
        previous = fork
        for i, (op, kernel) in enumerate(ops):
            nodes.append({"id": f"b{b}_{i}", "op": op, "kernel": kernel, "inputs": [previous]})
            previous = f"b{b}_{i}"
        joins.append(previous)
    return {"name": "m", "graph": {"nodes": nodes + [{"id": "cat", "op": "concat", "inputs": joins}]}}


def test_inception_variants_accepted_and_lookalikes_refused(tmp_path):
    key = "cnn_architectures.q9.inception"
    conv = lambda k, w=None: ("conv", [k, w or k])
    bn_relu = [("other", None), ("other", None)]
    v1_bn = [[conv(1)] + bn_relu, [conv(1)] + bn_relu + [conv(3)] + bn_relu + [conv(3)] + bn_relu,
             [conv(1)] + bn_relu + [conv(5)] + bn_relu, [("pool", [3, 3]), conv(1)] + bn_relu]
    googlenet = [[conv(1)], [conv(1), conv(3)], [conv(1), conv(3)], [("pool", [3, 3]), conv(1)]]   # torchvision's
    for branches in (v1_bn, googlenet):
        ok, message, _ = _judge(tmp_path, key, _graph(branches))
        assert ok, message
    asymmetric = [[conv(1, 3)], [conv(1), conv(3, 1)], [conv(1), conv(5, 1)], [("pool", [3, 3]), conv(1)]]
    no_pool = [[conv(1)], [conv(1), conv(3)], [conv(1), conv(5)], [conv(1)]]
    three = [[conv(1)], [conv(1), conv(3)], [("pool", [3, 3]), conv(1)]]
    for branches in (asymmetric, no_pool, three):
        assert not _judge(tmp_path, key, _graph(branches))[0], branches


def test_saved_curves_must_plot_both_accuracies_of_the_history(tmp_path):
    from PIL import Image
    key = "cnn_architectures.q9.curves"
    Image.new("RGB", (40, 30), "white").save(tmp_path / "acc.png")
    (tmp_path / "fake.png").write_bytes(b"not an image")
    history = {"name": "history", "metrics": {"accuracy": [0.4, 0.6, 0.7], "val_accuracy": [0.5, 0.62, 0.66],
                                              "loss": [1.5, 1.0, 0.8]}}
    line = lambda y: {"label": "", "y": y}

    def verdict(figures, hist=history):
        return _judge(tmp_path, key, {"figures": figures, "history": hist}, work=tmp_path)

    both = [{"file": "acc.png", "axes": [{"lines": [line([0.4, 0.6, 0.7]), line([0.5, 0.62, 0.66])], "images": 0}]}]
    ok, message, _ = verdict(both)
    assert ok and "3 points each" in message
    percent = [{"file": "acc.png", "axes": [{"lines": [line([40, 60, 70])]}, {"lines": [line([50, 62, 66])]}]}]
    assert verdict(percent)[0]                                          # two panels, in percent
    ok, message, _ = verdict([{"file": "acc.png", "axes": [{"lines": [line([0.4, 0.6, 0.7])]}]}])
    assert not ok and "1 curve(s)" in message                           # the training curve only
    loss = [{"file": "acc.png", "axes": [{"lines": [line([1.5, 1.0, 0.8]), line([0.5, 0.62, 0.66])]}]}]
    assert not verdict(loss)[0]                                         # loss is not accuracy
    ok, message, _ = verdict([dict(both[0], file="gone.png")])
    assert not ok and "not found next to the notebook" in message       # the judge opens the file itself
    ok, message, _ = verdict([dict(both[0], file="fake.png")])
    assert not ok and "not a readable image" in message
    assert not verdict([])[0] and not verdict(both, hist=None)[0]


def test_alexnet_first_layer_tensors_and_figures_right_and_wrong(tmp_path):
    from PIL import Image
    key_t, key_f = "cnn_architectures.q8.tensors", "cnn_architectures.q8.figures"
    base = {"model": "model", "framework": "torch", "model_filters": [64, 3, 11, 11],
            "filters": {"name": "filters", "shape": [64, 3, 11, 11], "from_model": True},
            "maps": {"name": "feature_maps", "shape": [1, 64, 55, 55], "finite": True, "std": 0.3}}
    ok, message, _ = _judge(tmp_path, key_t, base)
    assert ok and "(1, 64, 55, 55)" in message
    assert _judge(tmp_path, key_t, dict(base, maps=dict(base["maps"], shape=[64, 56, 56])))[0]        # 227 input
    for change, why in (({"filters": dict(base["filters"], from_model=False)}, "not the first conv layer's weights"),
                        ({"filters": dict(base["filters"], shape=[64, 3, 3, 3])}, "11x11"),
                        ({"maps": dict(base["maps"], shape=[1, 64, 27, 27])}, "54x54 to 56x56"),
                        ({"maps": dict(base["maps"], std=0.0)}, "constant"),
                        ({"maps": None}, "no feature-map tensor")):
        ok, message, _ = _judge(tmp_path, key_t, dict(base, **change))
        assert not ok and why in message, (change, message)
    for name in ("f.png", "m.png"):
        Image.new("RGB", (20, 20)).save(tmp_path / name)
    def panels(name, n, side, figure):
        return {"file": name, "figure": figure, "axes": [{"lines": [], "images": 1, "image_shape": [side, side]}] * n}

    def verdict(*figures):
        return _judge(tmp_path, key_f, dict(base, figures=list(figures)), work=tmp_path)

    ok, message, _ = verdict(panels("f.png", 64, 11, 1), panels("m.png", 64, 55, 2))
    assert ok and "f.png shows the 64 filters and m.png the 64 feature maps" in message
    assert verdict(panels("f.png", 64, 11, 1), panels("m.png", 65, 55, 2))[0]         # and the photo itself
    ok, message, _ = verdict(panels("f.png", 64, 11, 1), panels("m.png", 16, 55, 2))
    assert not ok and "m.png: 0 filter and 16 feature-map panel(s)" in message
    assert not verdict(panels("f.png", 64, 11, 1), panels("m.png", 64, 11, 1))[0]     # one figure saved twice
    assert not verdict(panels("f.png", 64, 55, 1), panels("m.png", 64, 55, 2))[0]     # two feature-map figures
    pooled = dict(base, maps=dict(base["maps"], shape=[1, 64, 27, 27]),               # the answer's own (wrong) maps
                  figures=[panels("f.png", 64, 11, 1), panels("m.png", 64, 27, 2)])    # shown: the tensor check says it
    assert _judge(tmp_path, key_f, pooled, work=tmp_path)[0]
    ok, message, _ = verdict(panels("f.png", 64, 11, 1), panels("gone.png", 64, 55, 2))
    assert not ok and "not found next to the notebook" in message
    assert not _judge(tmp_path, key_f, dict(base, figures=[]), work=tmp_path)[0]


def test_transfer_learning_stages_frozen_then_last_block_at_a_lower_rate(tmp_path):
    head = ["dense"]
    block5 = ["block5_conv1", "block5_conv2", "block5_conv3"]
    stage = lambda layers, lr, frozen=14_714_688, lo=-123.7, hi=151.1: {
        "trainable": 2052, "frozen": frozen, "trainable_layers": layers, "lr": lr,
        "inputs": {"min": lo, "max": hi, "mean": -10.0}, "completed": True}
    right = {"name": "model", "stages": [stage(head, 1e-3), stage(block5 + head, 1e-4, frozen=7_635_264)]}
    for part in ("frozen", "finetune", "preprocess"):
        ok, message, _ = _judge(tmp_path, f"cnn_architectures.q7.{part}", right)
        assert ok, (part, message)
    everything = ["block1_conv1", "block2_conv1"] + block5 + head
    cases = [("frozen", {"stages": [stage(everything, 1e-3, frozen=0)] + right["stages"][1:]}, "base is not frozen"),
             ("finetune", {"stages": right["stages"][:1]}, "only one training stage"),
             ("finetune", {"stages": [right["stages"][0], stage(everything, 1e-5)]}, "more than the last block"),
             ("finetune", {"stages": [right["stages"][0], stage(block5 + head, 1e-3)]}, "lower learning rate"),
             ("finetune", {"stages": [right["stages"][0], stage(head, 1e-5)]}, "no layer of the base is trainable"),
             ("preprocess", {"stages": [stage(head, 1e-3, lo=0.0, hi=255.0)]}, "raw pixels"),
             ("frozen", {"stages": []}, "never trained"),
             ("frozen", {"stages": [dict(stage([], 1e-3), trainable=0)]}, "nothing is trainable"),
             ("finetune", {"stages": [right["stages"][0], stage(everything, 1e-3), right["stages"][1]]},
              "more than the last block")]                      # an all-unfrozen fit in the middle
    for part, change, why in cases:
        ok, message, _ = _judge(tmp_path, f"cnn_architectures.q7.{part}", dict(right, **change))
        assert not ok and why in message, (part, message)
    assert _judge(tmp_path, "cnn_architectures.q7.preprocess", {"stages": [stage(head, 1e-3, lo=0.0, hi=1.0)]})[0]
    assert _judge(tmp_path, "cnn_architectures.q7.finetune",           # block 4 too is still "the last blocks"
                  {"stages": [right["stages"][0], stage(["block4_conv3"] + block5 + head, 1e-5)]})[0]


def test_self_check_leaves_recorded_facts_to_the_grader(capsys):
    from autograder.judge import local
    assert local.self_check("cnn_architectures.q7.frozen", {}) == ""      # no hook in a student's own Jupyter
    assert "checked by the grader" in capsys.readouterr().out
    with pytest.raises(local.CheckFailed):                                  # other checks still run at once
        local.self_check("cnn_architectures.q3.counts", {"alexnet_params": 1, "vgg16_params": 2})


def test_first_layer_tensors_are_found_and_compared_with_the_model_in_the_kernel(tmp_path):
    import torch
    import torchvision
    from autograder.kernel import evidence
    key = "cnn_architectures.q8.tensors"
    request = judge.requests([key], "smoke")[key]
    model = torchvision.models.alexnet(weights=None).eval()
    with torch.no_grad():
        maps = torch.relu(model.features[0](torch.rand(1, 3, 224, 224)))
    weight = model.features[0].weight.detach()
    ns = {"alexnet": model, "filters": weight.numpy(), "feature_maps": maps[0]}        # numpy, no batch dim
    ok, message, _ = _judge(tmp_path, key, evidence.first_layer_facts(request, ns, tmp_path / "f"))
    assert ok, message
    ns = {"alexnet": model, "kernels": weight.permute(0, 2, 3, 1), "out": maps}        # HWC copy, found by shape
    facts = evidence.first_layer_facts(request, ns, tmp_path / "f")
    assert _judge(tmp_path, key, facts)[0] and facts["filters"]["name"] == "kernels"
    ns = {"alexnet": model, "filters": weight / weight.abs().max(), "feature_maps": maps}  # rescaled for display
    ok, message, _ = _judge(tmp_path, key, evidence.first_layer_facts(request, ns, tmp_path / "f"))
    assert not ok and "not the first conv layer's weights" in message


# ----------------------------------------------------------------------------- Q10 three-class triage
A = "cnn_architectures"
TRIAGE_CLASSES = ["COVID19", "NORMAL", "PNEUMONIA"]


def _triage_private(tmp_path, truth=None):
    private = tmp_path / "private"
    private.mkdir(exist_ok=True)
    truth = truth if truth is not None else [0] * 4 + [1] * 4 + [2] * 4
    labels = {f"{i:05d}.png": y for i, y in enumerate(truth)}
    (private / "xray_triage.json").write_text(json.dumps(
        {"classes": TRIAGE_CLASSES, "labels": labels, "train_counts": {"COVID19": 40, "NORMAL": 160, "PNEUMONIA": 120}}))
    return private, labels


def test_class_weights_must_be_used_and_inverse_to_the_counts(tmp_path):
    private, _ = _triage_private(tmp_path)
    key = f"{A}.q10.weights"
    used = lambda w, how="loss": {"used": [{"how": how, "weight": w}], "stored": {}}
    for right in ([2.667, 0.667, 0.889], [1 / 40, 1 / 160, 1 / 120], {"0": 4.0, "1": 1.0, "2": 1.33},
                  {"covid19": 4.0, "normal": 1.0, "pneumonia": 1.33}):
        ok, message, _ = _judge(tmp_path, key, used(right), private=private)
        assert ok and "COVID19 4.00, NORMAL 1.00, PNEUMONIA 1.33" in message, message
    for wrong, why in (([0.125, 0.5, 0.375], "rare class must weigh the most"),    # proportional to the counts
                       ([1.0, 1.0, 1.0], "rare class must weigh the most"),
                       ([2.0, 1.0, 1.0], "rare class must weigh the most")):     # rare class up, but not enough
        ok, message, _ = _judge(tmp_path, key, used(wrong), private=private)
        assert not ok and why in message, message
    for forged in (["4", "1", "1.33"], [4.0, 1.0], [4.0, float("nan"), 1.33], [4.0, -1.0, 1.33], "4,1,1.33"):
        assert not _judge(tmp_path, key, used(forged), private=private)[0]
    ok, message, _ = _judge(tmp_path, key, {"used": [], "stored": {"class_weights": [2.667, 0.667, 0.889]}}, private=private)
    assert not ok and "never used it" in message
    ok, message, _ = _judge(tmp_path, key, {"used": [], "stored": {}}, private=private)
    assert not ok and "no class weights were used" in message and "COVID19 40" in message


def test_a_transfer_model_keeps_its_base_frozen_and_trains_its_head(tmp_path):
    key = f"{A}.q10.frozen"
    right = {"name": "model", "params": 3_374_851, "trained": 3_843, "head": "_fc.weight", "head_trained": True}
    ok, message, _ = _judge(tmp_path, key, right)
    assert ok and "3,371,008 of 3,374,851 parameters frozen" in message
    for change, why in (({"trained": 3_374_851}, "should stay frozen"),
                        ({"params": 50_000, "trained": 3_843}, "should stay frozen"),     # a small net, not a base
                        ({"trained": 500_000}, "should stay frozen"),                     # 85% frozen: not the head only
                        ({"trained": 0}, "never seen training"),
                        ({"head_trained": False}, "never trained"),
                        ({"params": "3374851"}, "could not be counted")):
        ok, message, _ = _judge(tmp_path, key, dict(right, **change))
        assert not ok and why in message, (change, message)


def test_per_class_report_right_swapped_and_wrong(tmp_path):
    from autograder.checks.formulas import per_class_report
    for key in (f"{A}.q10.report", f"{A}.q10.report#hidden"):
        cases = judge.requests([key], "smoke")[key]["cases"]
        as_evidence = lambda r: {"dict": {k: [list(map(int, row)) for row in v] if k == "confusion" else list(v)
                                          for k, v in r.items()}}
        right = [{"value": as_evidence(per_class_report(*c))} for c in cases]
        assert _judge(tmp_path, key, {"values": right})[0]
        swapped = [{"value": {"dict": dict(v["value"]["dict"], precision=v["value"]["dict"]["recall"],
                                           recall=v["value"]["dict"]["precision"])}} for v in right]
        ok, message, _ = _judge(tmp_path, key, {"values": swapped})
        assert not ok and ("swapped precision and recall" in message or "further test cases" in message)
        transposed = [{"value": {"dict": dict(v["value"]["dict"], confusion=[list(r) for r in zip(*v["value"]["dict"]["confusion"])])}}
                      for v in right]
        assert not _judge(tmp_path, key, {"values": transposed})[0]
    key = f"{A}.q10.report#hidden"
    cases = judge.requests([key], "smoke")[key]["cases"]
    nan_for_zero = []                      # 0/0 reported as NaN (NumPy without a guard) is accepted
    for c in cases:
        r = per_class_report(*c)
        predicted = [sum(row[j] for row in r["confusion"]) for j in range(c[2])]
        nan_for_zero.append({"value": {"dict": dict(r, precision=[p if n else "nan" for p, n in zip(r["precision"], predicted)])}})
    assert _judge(tmp_path, key, {"values": nan_for_zero})[0]
    from autograder.kernel.evidence import _value             # NumPy's 0/0 exported and read back as JSON
    exported = [json.loads(json.dumps({"value": _value({k: np.asarray(v, dtype=float) for k, v in per_class_report(*c).items()})}))
                for c in cases]
    assert _judge(tmp_path, key, {"values": exported})[0]
    for v, c in zip(exported, cases):
        v["value"]["dict"]["precision"] = [np.nan if x == 0 else x for x in v["value"]["dict"]["precision"]]
    assert _judge(tmp_path, key, json.loads(json.dumps({"values": exported})))[0]
    keyed = [{"value": {"dict": dict(v["value"]["dict"], recall={"dict": {str(i): r for i, r in enumerate(v["value"]["dict"]["recall"])}})}}
             for v in exported]                              # per-class numbers keyed by class index
    assert _judge(tmp_path, key, {"values": keyed})[0]
    ok, message, _ = _judge(tmp_path, f"{A}.q10.report", {"values": [{"value": {"repr": "<object>"}}] * 2})
    assert not ok and "did not return a dict" in message


def test_predict_xray_on_heldout_files_accuracy_and_every_class_recall(tmp_path):
    truth = [0] * 20 + [1] * 20 + [2] * 20
    private, labels = _triage_private(tmp_path, truth)
    key = f"{A}.q10.predict#hidden"
    files = sorted(labels)
    evidence = lambda predicted: {"function": "predict_xray", "files": len(files), "errors": {},
                                  "labels": dict(zip(files, predicted))}
    names = ["COVID-19", "Normal", "Viral Pneumonia"]        # spelt as students (and the real set) spell them
    ok, message, _ = _judge(tmp_path, key, evidence([names[y] for y in truth]), private=private)
    assert ok and "recall per class: COVID19 1.00" in message, message
    assert _judge(tmp_path, key, evidence(truth), private=private)[0]          # class indices are accepted
    no_covid = [1 if y == 0 else y for y in truth]                         # accuracy 0.67 < 0.85
    ok, message, _ = _judge(tmp_path, key, evidence(no_covid), private=private)
    assert not ok and "below the 0.85 accuracy" in message and "COVID19: [0, 20, 0]" in message
    rare_missed = [1 if y == 0 and i < 9 else y for i, y in enumerate(truth)]  # accuracy 0.85, COVID recall 0.55
    ok, message, _ = _judge(tmp_path, key, evidence(rare_missed), private=private)
    assert not ok and "recall of COVID19 is below" in message, message
    ok, message, _ = _judge(tmp_path, key, evidence(["COVID19"] * 59 + ["flu"]), private=private)
    assert not ok and "'flu'" in message
    ok, message, _ = _judge(tmp_path, key, dict(evidence(truth), errors={"00001.png": "OSError: bad"}), private=private)
    assert not ok and "raised on 1" in message
    partial = evidence(truth)
    partial["labels"] = dict(list(partial["labels"].items())[:5])
    assert not _judge(tmp_path, key, partial, private=private)[0]
    visible = f"{A}.q10.predict"
    few = {"function": "predict_xray", "files": 3, "errors": {}, "labels": {f: "NORMAL" for f in files[:3]}}
    ok, message, _ = _judge(tmp_path, visible, few, private=private)
    assert ok and "returns class names" in message


def test_the_saved_model_is_opened_without_running_its_code(tmp_path):
    import zipfile

    import torch
    from torch import nn
    key = f"{A}.q10.saved"
    work = tmp_path / "work"
    work.mkdir()
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    np.save(tmp_path / "head.npy", net[2].weight.detach().numpy())
    evidence = {"name": "model", "head": "2.weight", "head_file": "head.npy"}
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "xray_triage.pt or xray_triage.keras" in message
    for layout in (net.state_dict(), {"epoch": 3, "model_state_dict": net.state_dict(), "optimizer_state_dict": {}},
                   {"model": net.state_dict()}):
        torch.save(layout, work / "xray_triage.pt")
        ok, message, _ = _judge(tmp_path, key, evidence, work=work)
        assert ok and "your trained model's" in message, message
    before = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))   # saved before training
    torch.save(before.state_dict(), work / "xray_triage.pt")
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "not the one of your trained model" in message
    torch.save(net, work / "xray_triage.pt")                          # a pickled module: code on load
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "could not be loaded safely" in message
    torch.save(nn.Linear(8, 2).state_dict(), work / "xray_triage.pt")
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "no 3-way output layer" in message
    torch.save({"w": torch.zeros(1000, 1000)}, tmp_path / "big.pt")   # re-packed compressed: 4 MB of zeros in a few KB
    with zipfile.ZipFile(tmp_path / "big.pt") as src, zipfile.ZipFile(work / "xray_triage.pt", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert (work / "xray_triage.pt").stat().st_size < 100_000
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "unpacks to far more than its size" in message
    (work / "xray_triage.pt").unlink()

    def keras_file(units, weights=True):
        config = {"class_name": "Functional", "config": {"layers": [
            {"class_name": "Functional", "config": {"layers": [{"class_name": "Conv2D", "config": {"filters": 8}}]}},
            {"class_name": "Dense", "config": {"units": 64}}, {"class_name": "Dense", "config": {"units": units}}]}}
        with zipfile.ZipFile(work / "xray_triage.keras", "w") as zf:
            zf.writestr("config.json", json.dumps(config))
            if weights:
                zf.writestr("model.weights.h5", b"\0" * 64)
    keras_file(3)
    assert _judge(tmp_path, key, evidence, work=work)[0]
    keras_file(2)
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "has 2 units" in message
    keras_file(3, weights=False)
    ok, message, _ = _judge(tmp_path, key, evidence, work=work)
    assert not ok and "holds no weights" in message
# ----------------------------------------------------------------------------- pooling_lenet_alexnet
P = "pooling_lenet_alexnet"


def _pool_evidence(tmp_path, key, fn):
    from autograder.kernel import evidence
    request = judge.requests([key], "smoke")[key]
    return evidence.array_values(request, {request["function"]: fn}, tmp_path / key.replace("#", "__"))


def test_pooling_is_judged_on_the_graders_batches_and_named_mistakes(tmp_path):
    from autograder.checks import formulas
    for mode in ("max", "min"):
        key = f"{P}.q2.{mode}#hidden"
        right = lambda x, k, s=None, p=0, m=mode: formulas.pool_nhwc(x, k, s, p, m)
        ok, message, _ = _judge(tmp_path, key, _pool_evidence(tmp_path, key, right))
        assert ok and "all 12 test batches" in message, message
    copied = lambda x, k, s=None, p=0: formulas.pool_nhwc(x, k, s, p, "max")      # min pooling that returns max
    ok, message, _ = _judge(tmp_path, f"{P}.q2.min", _pool_evidence(tmp_path, f"{P}.q2.min", copied))
    assert not ok and "returns the maximum of each window" in message and "(1, 4, 4, 1)" in message
    ok, message, _ = _judge(tmp_path, f"{P}.q2.min#hidden", _pool_evidence(tmp_path, f"{P}.q2.min#hidden", copied))
    assert not ok and "inputs are not shown" in message and "(1, 4, 4, 1)" not in message

    def zero_padded(x, k, s=None, p=0):
        return formulas.pool_nhwc(np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))), k, s, 0, "max")
    ok, message, _ = _judge(tmp_path, f"{P}.q2.max#hidden", _pool_evidence(tmp_path, f"{P}.q2.max#hidden", zero_padded))
    assert not ok and "counted as zeros" in message
    assert _judge(tmp_path, f"{P}.q2.max", _pool_evidence(tmp_path, f"{P}.q2.max", zero_padded))[0]  # no padding there

    def no_batch(x, k, s=None, p=0):                     # pools the first image only
        return formulas.pool_nhwc(x[:1], k, s, p, "max")
    ok, message, _ = _judge(tmp_path, f"{P}.q2.max", _pool_evidence(tmp_path, f"{P}.q2.max", no_batch))
    assert not ok and "returned shape (1, 2, 2, 3), expected (2, 2, 2, 3)" in message

    def fixed_stride(x, k, s=None, p=0):                 # ignores the stride: windows always non-overlapping
        return formulas.pool_nhwc(x, k, k, p, "max")
    assert not _judge(tmp_path, f"{P}.q2.max#hidden", _pool_evidence(tmp_path, f"{P}.q2.max#hidden", fixed_stride))[0]
    ok, message, _ = _judge(tmp_path, f"{P}.q2.max", _pool_evidence(tmp_path, f"{P}.q2.max", lambda x, k, s: 1 / 0))
    assert not ok and "raised ZeroDivisionError" in message
    ok, message, _ = _judge(tmp_path, f"{P}.q2.max", {"missing": "no function `max_pool2d` defined"})
    assert not ok and "no function" in message


def test_pooling_requests_hold_seeds_not_expected_outputs():
    request = judge.requests([f"{P}.q2.max#hidden"], "smoke")[f"{P}.q2.max#hidden"]
    assert set(request) == {"kind", "function", "cases"}
    assert all(set(case) <= {"shape", "seed", "args", "ints"} for case in request["cases"])
    sizes = [tuple(c["shape"][1:3]) for c in request["cases"]]
    assert any(h % 2 for h, _ in sizes) and any(len(c["args"]) == 3 and c["args"][2] for c in request["cases"])
    assert any(len(c["args"]) > 1 and c["args"][1] != c["args"][0] for c in request["cases"])   # stride != window


def test_worked_example_and_output_sizes_right_and_wrong(tmp_path):
    key = f"{P}.q2.example"
    right = {"values": {"pooled_max": [[9, 9], [9, 9]], "pooled_min": [[[1], [1]], [[2], [1]]],   # any squeezable shape
                        "keeps_line": {"str": "max pooling"}}}
    ok, message, _ = _judge(tmp_path, key, right)
    assert ok, message
    swapped = {"values": dict(right["values"], pooled_min=[[9, 9], [9, 9]])}
    ok, message, _ = _judge(tmp_path, key, swapped)
    assert not ok and "that is the max pooling of the map" in message
    for choice in ("min", "max or min", "neither"):
        ok, message, _ = _judge(tmp_path, key, {"values": dict(right["values"], keeps_line={"str": choice})})
        assert not ok and "keeps_line" in message
    ok, message, _ = _judge(tmp_path, key, {"values": {"pooled_min": [[1, 1], [2, 1]]}})
    assert not ok and "no variable `pooled_max`" in message
    from autograder.checks import formulas
    for key in (f"{P}.q4.sizes", f"{P}.q4.sizes#hidden"):
        cases = specs.SPECS[key].request["cases"]
        right = {"values": [{"value": formulas.padded_output_size(*c)} for c in cases]}
        assert _judge(tmp_path, key, right)[0]
    cases = specs.SPECS[f"{P}.q4.sizes#hidden"].request["cases"]
    for wrong in (lambda n, f, s, pad: n // s if pad == "same" else (n - f) // s + 1,            # floor for 'same'
                  lambda n, f, s, pad: (n - f) // s + 1 if pad == "valid" else (n + 2 * ((f - 1) // 2) - f) // s + 1,  # p = (f-1)//2
                  lambda n, f, s, pad: formulas.padded_output_size(n, f, s, "valid" if pad == "same" else "same")):
        ok, message, _ = _judge(tmp_path, f"{P}.q4.sizes#hidden",
                                {"values": [{"value": wrong(*c)} for c in cases]})
        assert not ok and "further test cases" in message
    ok, message, _ = _judge(tmp_path, f"{P}.q4.sizes", {"values": [{"value": 28}, {"value": 26}, {"value": 3}, {"value": 14}]})
    assert not ok and "output_size(7, 3, 2, 'same') returned 3, expected 4" in message


def _torch_lenet(c1=6, pool=True, n=28):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, c1, 5), nn.Conv2d(c1, 16, 5)
            side = ((n - 4) // 2 - 4) // 2 if pool else n - 8
            self.fc = nn.Sequential(nn.Flatten(), nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84),
                                    nn.ReLU(), nn.Linear(84, 10))

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.max_pool2d(x, 2) if pool else x
            x = F.relu(self.conv2(x))
            return self.fc(F.max_pool2d(x, 2) if pool else x)
    torch.manual_seed(0)
    return LeNet()


def test_lenet_stage_shapes_read_in_both_frameworks_and_judged_per_input_size(tmp_path):
    import keras
    from autograder.kernel import evidence
    key = f"{P}.q8.shapes"
    request = judge.requests([key], "smoke")[key]

    def verdict(model):
        facts = evidence.stage_facts(request, {"model": model}, tmp_path / "s")
        return _judge(tmp_path, key, facts)[:2]
    ok, message = verdict(_torch_lenet())                         # F.max_pool2d in forward is seen too
    assert ok and "28x28 input (no padding): C1 24x24x6, S2 12x12x6, C3 8x8x16, S4 4x4x16" in message
    assert verdict(_torch_lenet(n=32))[0]
    ok, message = verdict(_torch_lenet(c1=8))
    assert not ok and "conv 24x24x8" in message
    ok, message = verdict(_torch_lenet(pool=False))
    assert not ok and "conv 24x24x6 -> conv 20x20x16" in message
    L = keras.layers

    def keras_lenet(n, padding):
        return keras.Sequential([keras.Input((n, n, 1)), L.Conv2D(6, 5, padding=padding, activation="relu"),
                                 L.MaxPooling2D(2), L.Conv2D(16, 5, activation="relu"), L.MaxPooling2D(2),
                                 L.Flatten(), L.Dense(120), L.Dense(84), L.Dense(10)])
    ok, message = verdict(keras_lenet(28, "same"))
    assert ok and "padding='same' in C1): C1 28x28x6, S2 14x14x6, C3 10x10x16, S4 5x5x16" in message
    ok, message = verdict(keras_lenet(32, "same"))                 # 32x32 padded again: C5 would see 6x6x16
    assert not ok and "28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 (no padding)" in message and "conv 32x32x6" in message
    inputs = keras.Input((28, 28, 1))                               # the functional API: read from the graph
    x = L.MaxPooling2D(2)(L.Conv2D(6, 5, padding="same")(inputs))
    x = L.MaxPooling2D(2)(L.Conv2D(16, 5)(x))
    functional = keras.Model(inputs, L.Dense(10)(L.Dense(84)(L.Dense(120)(L.Flatten()(x)))))
    assert verdict(functional)[0]


def test_arrays_of_a_namespace_with_numpy_imported_are_found():
    from autograder.kernel import discover
    x = np.zeros((5, 4))
    assert [f.name for f in discover.arrays({"np": np, "x": x}, 5)] == ["x"]


def _torch_alexnet(dropout=True, pool=(3, 2), conv1=(3, 1)):
    import torch
    from torch import nn
    torch.manual_seed(0)
    drop = [nn.Dropout(0.5)] if dropout else []
    k, s = conv1
    return nn.Sequential(
        nn.Conv2d(1, 8, k, stride=s, padding=k // 2), nn.ReLU(), nn.MaxPool2d(*pool),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(*pool),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(2), nn.Flatten(),
        *drop, nn.Linear(32, 32), nn.ReLU(), *drop, nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))


def _alexnet_verdict(tmp_path, key, model, ns=None):
    from autograder.kernel import evidence
    request = judge.requests([key], "smoke")[key]
    facts = evidence.COLLECTORS[request["kind"]](request, {"model": model, **(ns or {})}, tmp_path / key)
    return _judge(tmp_path, key, facts)[:2]


def test_alexnet_structure_variants_and_parts(tmp_path):
    import torchvision
    structure, parts = f"{P}.q12.structure", f"{P}.q12.parts"
    ok, message = _alexnet_verdict(tmp_path, structure, _torch_alexnet())
    assert ok and "small-input variant" in message and "3x3/1, 3x3/1, 3x3/1, 3x3/1, 3x3/1" in message, message
    classic = torchvision.models.alexnet(weights=None, num_classes=10)
    ok, message = _alexnet_verdict(tmp_path, structure, classic)
    assert ok and "the classic layout" in message and "11x11/4, 5x5/1" in message, message
    ok, message = _alexnet_verdict(tmp_path, structure, _torch_alexnet(conv1=(7, 2)))
    assert not ok and "found 7x7/2" in message
    ok, message = _alexnet_verdict(tmp_path, structure, torchvision.models.vgg11(weights=None, num_classes=10))
    assert not ok and "5 convolutional and 3 fully connected layers; found 8 and 3" in message
    ok, message = _alexnet_verdict(tmp_path, parts, _torch_alexnet())
    assert ok and "3x3 windows at stride 2" in message and "2 layer(s), p=0.5" in message, message
    ok, message = _alexnet_verdict(tmp_path, parts, _torch_alexnet(dropout=False))
    assert not ok and "no dropout" in message and "overlapping" not in message
    ok, message = _alexnet_verdict(tmp_path, parts, _torch_alexnet(pool=(2, 2)))
    assert not ok and "no overlapping max-pooling" in message and "2x2/2" in message
    import keras
    L = keras.layers
    small = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 5, padding="same", activation="relu"),
                              L.MaxPooling2D(3, 2), L.Conv2D(16, 5, padding="same", activation="relu"),
                              L.MaxPooling2D(3, 2), *[L.Conv2D(16, 3, padding="same", activation="relu") for _ in range(3)],
                              L.MaxPooling2D(3, 2), L.Flatten(), L.Dropout(0.5), L.Dense(32, activation="relu"),
                              L.Dropout(0.5), L.Dense(32, activation="relu"), L.Dense(10)])
    assert _alexnet_verdict(tmp_path, structure, small)[0] and _alexnet_verdict(tmp_path, parts, small)[0]


def test_alexnet_parameter_count_reported_and_known_layouts(tmp_path):
    import torchvision
    key = f"{P}.q12.params"
    net = _torch_alexnet()
    count = sum(p.numel() for p in net.parameters())
    ok, message = _alexnet_verdict(tmp_path, key, net, {"n_params": count})
    assert ok and f"{count:,} parameters" in message
    ok, message = _alexnet_verdict(tmp_path, key, net, {"n_params": 62_378_344})
    assert not ok and f"you report `n_params` = 62,378,344, your model `model` has {count:,}" in message
    ok, message = _alexnet_verdict(tmp_path, key, net)
    assert not ok and "no reported count" in message
    classic = torchvision.models.alexnet(weights=None, num_classes=10)
    ok, message = _alexnet_verdict(tmp_path, key, classic, {"n_params": 57_044_810})
    assert ok and "torchvision's layout (64-192-384-256-256) for 227x227x3 and 10 classes" in message, message
    classic.classifier[4] = torch_linear(4096, 2048)                 # an FC layer of another width: not AlexNet's
    classic.classifier[6] = torch_linear(2048, 10)
    count = sum(p.numel() for p in classic.parameters())
    ok, message = _alexnet_verdict(tmp_path, key, classic, {"n_params": count})
    assert not ok and "not the count of an AlexNet layout" in message and "58,322,314" in message


def torch_linear(a, b):
    from torch import nn
    return nn.Linear(a, b)


def test_evaluation_without_eval_mode_is_named(tmp_path):
    key = f"{P}.q12.eval"
    net = _torch_alexnet()
    net.train()
    ok, message = _alexnet_verdict(tmp_path, key, net)
    assert not ok and "still in training mode" in message and "Dropout" in message and "`model.eval()`" in message
    net.eval()
    assert _alexnet_verdict(tmp_path, key, net)[0]
    plain = _torch_alexnet(dropout=False).train()                      # nothing behaves differently: fine
    assert _alexnet_verdict(tmp_path, key, plain)[0]


def test_an_evaluation_in_training_mode_is_seen_even_when_eval_is_called_afterwards(tmp_path):
    import torch
    from autograder.kernel import training
    training.track_torch_evaluation()
    key = f"{P}.q12.eval"
    net, x = _torch_alexnet(), torch.zeros(2, 1, 28, 28)
    net.train()
    with torch.no_grad():
        net(x)                                                         # the test loop, dropout active
    net.eval()                                                         # ... and eval() only afterwards
    ok, message = _alexnet_verdict(tmp_path, key, net)
    assert not ok and "was evaluated in training mode" in message and "torch.no_grad()" in message
    with torch.no_grad():
        net(x)                                                         # evaluated again, in eval mode
    net.train()                                                        # then back to training mode: fine
    ok, message = _alexnet_verdict(tmp_path, key, net)
    assert ok, message
    from autograder.kernel import evidence
    fresh = _torch_alexnet().train()
    evidence.forward(fresh, np.zeros((2, 1, 28, 28), dtype="float32"))   # the kit's own passes do not count
    assert training.last_evaluation(fresh) is None


def test_a_cell_stopped_by_the_time_limit_costs_the_checks_of_a_finished_training(tmp_path):
    stopped = {"q12_code": 300}
    for key in (f"{P}.q12.accuracy#hidden", f"{P}.q12.eval"):
        ok, message, _ = judge.judge_one(key, {"name": "model"}, profile="smoke", evidence_dir=tmp_path,
                                         work_dir=None, private_dir=None, stopped=stopped)
        assert not ok and "`q12_code` was stopped by the time limit (300 s per cell)" in message
    net = _torch_alexnet()
    from autograder.kernel import evidence
    request = judge.requests([f"{P}.q12.parts"], "smoke")[f"{P}.q12.parts"]
    facts = evidence.architecture_facts(request, {"model": net}, tmp_path / "a")
    ok, _, _ = judge.judge_one(f"{P}.q12.parts", facts, profile="smoke", evidence_dir=tmp_path, work_dir=None,
                               private_dir=None, stopped=stopped)
    assert ok                                                          # what ran keeps its points
    cells = {"q12_accuracy_tests": f'check("{P}.q12.accuracy", hidden=True)'}
    (tmp_path / "pooling_lenet_alexnet.q12.accuracy__hidden.json").write_text(json.dumps({"name": "model"}))
    before = judge.judge_cells(cells, profile="smoke", evidence_dir=tmp_path, work_dir=None, private_dir=None,
                               stopped={"cell 30": 300}, after_stop=[])["q12_accuracy_tests"]
    assert "stopped by the time limit" not in " ".join(before.messages)   # measured before the stop: judged as usual
    after = judge.judge_cells(cells, profile="smoke", evidence_dir=tmp_path, work_dir=None, private_dir=None,
                              stopped={"q12_code": 300}, after_stop=["q12_accuracy_tests"])["q12_accuracy_tests"]
    assert not after.passed and "stopped by the time limit" in after.messages[0]


def test_only_the_grade_cells_after_the_first_stopped_cell_count_as_cut_short(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.grading.worker import cells_after
    cells = [new_code_cell("train()"), new_code_cell("check()"), new_code_cell("explore()"), new_code_cell("check()")]
    for cell, gid in zip(cells, ("q12_code", "q12_accuracy_tests", None, "q12_eval_tests")):
        if gid:
            cell.metadata["nbgrader"] = {"grade_id": gid}
    nbformat.write(new_notebook(cells=cells), tmp_path / "nb.ipynb")
    assert cells_after(tmp_path / "nb.ipynb", [{"cell": "cell 3", "seconds": 300, "index": 2}]) == ["q12_eval_tests"]
    assert cells_after(tmp_path / "nb.ipynb", [{"cell": "q12_code", "seconds": 300, "index": 0}]) == [
        "q12_accuracy_tests", "q12_eval_tests"]
    assert cells_after(tmp_path / "nb.ipynb", []) == []
    assert cells_after(tmp_path / "nb.ipynb", [{"cell": "a cell", "seconds": 300}]) is None   # place unknown: all


def test_relu_and_pooling_are_seen_in_every_spelling_once(tmp_path):
    import torch
    from torch import nn
    from torch.nn import functional as F

    from autograder.kernel import evidence

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.drop, self.fc = nn.Conv2d(1, 4, 3), nn.Dropout(0.5), nn.Linear(4 * 6 * 6, 10)

        def forward(self, x):
            x = F.max_pool2d(torch.relu(self.conv(x)), 2)          # F.max_pool2d calls torch.max_pool2d
            x = torch.max_pool2d(x.relu(), 2, 2)
            return self.fc(self.drop(torch.flatten(x, 1)))
    ops = [op["class"] for op in evidence._torch_ops(Net(), np.zeros((1, 1, 28, 28), dtype="float32"))]
    assert ops == ["conv2d", "relu", "max_pool2d", "relu", "max_pool2d", "dropout", "linear"]
    assert torch.relu(torch.tensor([-1.0])).item() == 0.0 and not hasattr(torch.relu, "__wrapped__")


def test_an_eval_mode_pass_with_gradients_on_is_an_evaluation_too():
    import torch

    from autograder.kernel import training
    training.track_torch_evaluation()
    net = _torch_alexnet()
    x = torch.zeros(2, 1, 28, 28)
    net.train()
    with torch.no_grad():
        net(x)                                  # training accuracy, measured in train mode without gradients
    net.eval()
    net(x)                                      # then the evaluation, in eval mode, gradients left on
    assert training.last_evaluation(net)["training"] is False


def test_a_model_at_chance_gets_the_loss_and_learning_rate_hint(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    labels = np.arange(500) % 10
    np.save(private / "mnist.npy", labels)
    np.save(tmp_path / "s.npy", np.tile(np.eye(10)[0], (500, 1)))     # always class 0
    ok, message, _ = judge.judge_one(f"{P}.q12.accuracy#hidden", {"name": "model", "scores": "s.npy", "how": "x"},
                                     profile="smoke", evidence_dir=tmp_path, work_dir=None, private_dir=private)
    assert not ok and "chance level" in message and "ln(10) = 2.30" in message and "learning rate" in message
    ok, message, _ = judge.judge_one(f"{F}.q6.accuracy#hidden", {"name": "model", "scores": "s.npy", "how": "x"},
                                     profile="smoke", evidence_dir=tmp_path, work_dir=None, private_dir=private)
    assert not ok and "ln(10)" not in message                          # other questions keep their message
