"""The grading kernels' start-up hook, run in fresh interpreters as the runner would."""
import os
import subprocess
import sys
import textwrap

import pytest

from autograder.kernel import hook


def staged():
    """The smoke profile's student-visible data, staged as the runner stages it."""
    from autograder.data import staging
    from autograder.data.cache import served_dir
    return staging.stage("smoke", served_dir() / "stage-tests").student


def _run(code: str, **env) -> subprocess.CompletedProcess:
    full = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **env)
    prelude = "import autograder.kernel.hook as h; h.install()\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], env=full,
                          capture_output=True, text=True, timeout=300)


def test_network_is_refused_but_loopback_works():
    code = """
    import socket
    server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
    socket.create_connection(server.getsockname(), timeout=2).close()
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=2)
    except ConnectionRefusedError as exc:
        print("REFUSED", exc)
    try:
        socket.getaddrinfo("example.org", 443)
    except ConnectionRefusedError as exc:
        print("REFUSED", exc)
    """
    out = _run(code, AUTOGRADER_NO_NETWORK="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("REFUSED network access is disabled while grading") == 2


def test_network_guard_is_off_unless_asked():
    assert hook.callbacks("full", "/data").keys() == {"torch", "torch.optim", "keras", "tensorflow", "matplotlib.figure"}
    assert "keras.src.datasets.mnist" in hook.callbacks("smoke", "/data")
    assert "keras.src.datasets.mnist" not in hook.callbacks("smoke", None)   # nothing staged: leave loaders alone


def test_smoke_routes_idiomatic_keras_loaders_and_seeds(tmp_path):
    code = """
    import json, keras
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    (cx, cy), (cxt, cyt) = keras.datasets.cifar10.load_data()
    print(json.dumps([x.shape, xt.shape, str(x.dtype), cx.shape, cy.shape, float(keras.random.uniform((1,), seed=None)[0]) > -1]))
    """
    log = tmp_path / "served.jsonl"
    out = _run(code, AUTOGRADER_PROFILE="smoke", AUTOGRADER_SERVED_LOG=str(log), AUTOGRADER_DATA=str(staged()))
    assert out.returncode == 0, out.stderr[-2000:]
    shapes = out.stdout.strip().splitlines()[-1]
    assert shapes.startswith("[[4000, 28, 28], [500, 28, 28], \"uint8\", [10000, 32, 32, 3], [10000, 1]")
    served = log.read_text()
    assert "mnist" in served and "stand-in for CIFAR-10" in served


def test_smoke_routes_torchvision_mnist(tmp_path):
    code = f"""
    import torch, torchvision
    ds = torchvision.datasets.MNIST({str(tmp_path)!r}, train=True, download=True)
    test = torchvision.datasets.MNIST({str(tmp_path)!r}, train=False, download=True)
    print(len(ds), len(test), int(ds.targets.max()))
    """
    out = _run(code, AUTOGRADER_PROFILE="smoke", AUTOGRADER_NO_NETWORK="1", AUTOGRADER_DATA=str(staged()))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["4000", "500", "9"]


@pytest.mark.parametrize("profile", ["full"])
def test_full_profile_leaves_loaders_alone(profile):
    code = """
    import keras.src.datasets.mnist as m
    print(m.load_data.__module__)
    """
    out = _run(code, AUTOGRADER_PROFILE=profile)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("keras.src.datasets.mnist")


def test_mixed_precision_policy_on_gpu_workers_only():
    code = """
    import keras
    print(keras.config.dtype_policy().name)
    """
    on = _run(code, AUTOGRADER_MIXED_PRECISION="1")
    assert on.returncode == 0, on.stderr[-2000:]
    assert on.stdout.strip().splitlines()[-1] == "mixed_float16"
    off = _run(code, AUTOGRADER_MIXED_PRECISION="0")
    assert off.stdout.strip().splitlines()[-1] == "float32"


def test_training_is_seen_and_timed_in_both_frameworks():
    code = """
    import time
    import torch
    from torch import nn
    from autograder.kernel import training
    def train(model, steps):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)      # local: gone after training
        for _ in range(steps):
            opt.zero_grad(); model(torch.randn(3, 4)).sum().backward(); opt.step(); time.sleep(0.2)
    for _ in range(3):                                          # ids of discarded models get reused
        train(nn.Linear(4, 2), 2)
    net, idle = nn.Linear(4, 2), nn.Linear(4, 2)
    train(net, 4)
    print("TORCH", training.last_trained(net) > 0, training.last_trained(idle), training.seconds_trained(net))
    """
    out = _run(code)
    assert "TORCH True 0 " in out.stdout, out.stderr[-2000:]
    seconds = float(out.stdout.split("TORCH True 0 ")[1].split()[0])
    assert 0.7 <= seconds <= 1.6, seconds                       # 4 steps 0.2 s apart: about 0.8 s
    code = """
    import numpy as np
    import keras
    from autograder.kernel import training
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((8, 3)), np.zeros(8), epochs=2, verbose=0)
    print("KERAS", training.last_trained(model) > 0, training.seconds_trained(model) > 0)
    """
    out = _run(code)
    assert "KERAS True True" in out.stdout, out.stderr[-2000:]


def test_saved_figures_are_recorded_with_their_curves_and_panels():
    code = """
    import json
    import matplotlib.pyplot as plt
    import numpy as np
    from autograder.kernel import figures
    plt.plot([0.5, 0.7, 0.8], label="train"); plt.plot([0.4, 0.6, 0.65], label="val"); plt.legend()
    plt.savefig("curves.png")
    fig, axes = plt.subplots(2, 4)
    for ax in axes.flat:
        ax.imshow(np.zeros((5, 5))); ax.axis("off")
    fig.savefig("panels.png")
    print(json.dumps(figures.saved()))
    """
    import json
    with __import__("tempfile").TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", "import autograder.kernel.hook as h; h.install()\n" + textwrap.dedent(code)],
                             env=dict(os.environ, MPLBACKEND="Agg"), capture_output=True, text=True, cwd=tmp, timeout=120)
    saved = json.loads(out.stdout.strip().splitlines()[-1])
    assert [f["file"] for f in saved] == ["curves.png", "panels.png"], out.stderr[-2000:]
    assert [line["y"] for line in saved[0]["axes"][0]["lines"]] == [[0.5, 0.7, 0.8], [0.4, 0.6, 0.65]]
    assert sum(ax["images"] for ax in saved[1]["axes"]) == 8


def test_smoke_serves_pretrained_torchvision_weights_as_a_named_random_initialisation(tmp_path):
    code = """
    import torchvision
    model = torchvision.models.alexnet(weights="IMAGENET1K_V1")
    print("SHAPE", tuple(model.features[0].weight.shape))
    """
    log = tmp_path / "served.jsonl"
    out = _run(code, AUTOGRADER_PROFILE="smoke", AUTOGRADER_DATA=str(tmp_path), AUTOGRADER_SERVED_LOG=str(log))
    assert "SHAPE (64, 3, 11, 11)" in out.stdout, out.stderr[-2000:]
    assert "alexnet weights: a random initialisation (stand-in" in log.read_text()
    full = hook.callbacks("full", "/data")                                     # full: the real cached weights
    assert "torchvision.models._api" not in full and "keras.src.applications.vgg16" not in full


def test_keras_fit_stages_and_smoke_vgg16_weights(tmp_path):
    code = """
    import json
    import numpy as np
    import keras
    from autograder.kernel import training
    base = keras.applications.VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    base.trainable = False
    model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.full((4, 32, 32, 3), 200.0, "float32")
    model.fit(x, np.zeros((4, 2)), verbose=0)
    try:
        model.fit(x, np.zeros((4, 3)), verbose=0)       # a fit that raises trains nothing
    except Exception:
        pass
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block5")
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(x, np.zeros((4, 2)), verbose=0)
    print("STAGES", json.dumps(training.keras_stages(model)))
    """
    log = tmp_path / "served.jsonl"
    out = _run(code, AUTOGRADER_PROFILE="smoke", AUTOGRADER_DATA=str(tmp_path), AUTOGRADER_SERVED_LOG=str(log))
    import json
    stages = json.loads(out.stdout.split("STAGES ", 1)[1])
    assert len(stages) == 2, out.stderr[-2000:]
    assert stages[0]["trainable_layers"] == ["dense"] and stages[0]["frozen"] == 14_714_688
    assert stages[0]["inputs"]["max"] == 200.0 and abs(stages[0]["lr"] - 0.1) < 1e-6
    assert set(stages[1]["trainable_layers"]) == {"block5_conv1", "block5_conv2", "block5_conv3", "dense"}
    assert "VGG16 weights: a random initialisation" in log.read_text()


def test_class_weights_and_frozen_parameters_are_seen_as_training_uses_them():
    code = """
    import numpy as np
    import torch
    from torch import nn
    import torch.nn.functional as F
    from autograder.kernel import training
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    for p in model[0].parameters():
        p.requires_grad = False                                  # a frozen base, still given to the optimizer
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor([4.0, 1.0, 1.33]))
    for _ in range(3):
        opt.zero_grad(); loss_fn(model(torch.randn(5, 4)), torch.tensor([0, 1, 2, 1, 1])).backward(); opt.step()
    with torch.no_grad():                                        # evaluation with another weight: not training
        nn.CrossEntropyLoss(weight=torch.ones(3))(model(torch.randn(2, 4)), torch.tensor([0, 1]))
    nn.NLLLoss(weight=torch.ones(3))(model(torch.randn(2, 4)), torch.tensor([0, 1]))   # no backward: not training
    torch.jit.script(nn.CrossEntropyLoss(weight=torch.ones(3)))  # the loss modules are left scriptable
    entries = training._torch_entries(model)
    print("WEIGHTS", training.loss_weights())
    print("STEPPED", sorted(e.ref().shape[0] for e in entries))
    """
    out = _run(code)
    assert "WEIGHTS [{'loss': 'CrossEntropyLoss', 'weight': [4.0, 1.0, 1.3300000" in out.stdout, out.stderr[-2000:]
    assert "'calls': 3" in out.stdout and out.stdout.count("'loss'") == 1
    assert "STEPPED [3, 3]" in out.stdout                        # the head's weight and bias, not the frozen layer
    code = """
    import numpy as np
    import keras
    from autograder.kernel import training
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(np.zeros((6, 3)), np.array([0, 1, 2, 1, 1, 1]), class_weight={0: 4.0, 1: 1.0, 2: 1.33}, verbose=0)
    print("KERAS", training.keras_class_weights())
    """
    out = _run(code)
    assert "KERAS [{'0': 4.0, '1': 1.0, '2': 1.33}]" in out.stdout, out.stderr[-2000:]


def test_triage_facts_are_read_from_the_live_model_and_its_prediction_function(tmp_path):
    """The kernel side of Q10 on real objects: a frozen base, the head's weights, predict_xray on files."""
    import numpy as np
    from PIL import Image
    folder = tmp_path / "heldout" / "xray_triage"
    folder.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.full((8, 8), 60 * i, np.uint8)).save(folder / f"{i:05d}.png")
    code = f"""
    import json, numpy as np, torch
    from pathlib import Path
    from torch import nn
    from autograder.kernel import evidence
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 1000), nn.ReLU(), nn.Linear(1000, 3))
    for p in model[1].parameters():
        p.requires_grad = False
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad(); nn.CrossEntropyLoss()(model(torch.randn(4, 3, 8, 8)), torch.tensor([0, 1, 2, 0])).backward(); opt.step()
    outputs = [torch.tensor(2), torch.tensor([1]), ("NORMAL", 0.9), np.int64(0)]
    predict_xray = lambda path: outputs[int(Path(path).stem)]
    ns = dict(model=model, predict_xray=predict_xray)
    out = Path("{tmp_path}")
    for kind, request in (("frozen", {{"image": {{"sizes": [8], "channels": 3}}, "classes": 3}}),
                          ("saved", {{"image": {{"sizes": [8], "channels": 3}}, "classes": 3}}),
                          ("predict_files", {{"function": "predict_xray", "folder": "xray_triage"}})):
        facts = evidence.collect(kind, dict(request, kind=kind), ns, out)
        facts.pop("shown", None)
        print(kind.upper(), json.dumps(facts, sort_keys=True))
    print("HEAD", np.allclose(np.load(out / "saved.head.npy"), model[3].weight.detach().numpy()))
    """
    out = _run(code, AUTOGRADER_DATA=str(tmp_path))
    assert '"head": "3.weight", "head_trained": true' in out.stdout, out.stdout + out.stderr[-2000:]
    assert '"trained": 3003' in out.stdout and '"params": 196003' in out.stdout
    assert 'PREDICT_FILES {"errors": {}, "files": 4, "function": "predict_xray", "labels": {"00000.png": 2, ' \
           '"00001.png": 1, "00002.png": "NORMAL", "00003.png": 0}}' in out.stdout
    assert "HEAD True" in out.stdout
    code = """
    import json, numpy as np, keras
    from autograder.kernel import evidence
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten()], name="base")
    base.trainable = False
    head = keras.Sequential([keras.layers.Dense(3)], name="head")
    model = keras.Sequential([keras.Input((8, 8, 3)), base, head, keras.layers.Softmax()])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.zeros((6, 8, 8, 3)), np.array([0, 1, 2, 0, 1, 2]), verbose=0)
    facts = evidence.collect("frozen", {"kind": "frozen", "image": {"sizes": [8], "channels": 3}, "classes": 3}, {"model": model}, __import__("pathlib").Path("."))
    print("KERAS", facts["head"], facts["head_trained"], facts["params"], facts["trained"])
    """
    out = _run(code)
    assert "KERAS dense True 547 435" in out.stdout        # conv 112 frozen, the nested head trained, out.stdout + out.stderr[-2000:]
