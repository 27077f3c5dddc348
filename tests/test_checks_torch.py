"""Checks on PyTorch models: each passes on a right answer and fails, with an actionable
message, on a wrong one. Keras is never needed here."""

import torch  # torch and torchvision first: importing them after keras crashes
import torchvision

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from torch import nn

from autograder import checks
from helpers import quadrant_data
from autograder.checks import CheckFailed


def lenet5(kernel=5, head=10):
    flat = 16 * 5 * 5 if kernel == 5 else 16 * 6 * 6
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, kernel), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(flat, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, head))


class OutOfOrder(nn.Module):
    """Modules defined in a different order from the one forward calls them in."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4 * 4 * 4, 3)
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(1, 4, 3, padding=1)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))




def test_framework_of():
    assert checks.framework_of(lenet5()) == "torch"
    assert checks.framework_of(OutOfOrder()) == "torch"
    with pytest.raises(CheckFailed, match="should be a Keras model or a PyTorch nn.Module"):
        checks.framework_of(torch.zeros(3))


def test_checks_on_torch_never_import_keras():
    code = textwrap.dedent("""
        import sys, torch
        from autograder import checks
        m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2))
        checks.output_shape(m, (1, 1, 4, 4), (None, 2)); checks.count_params(m)
        checks.layer_kinds(m); checks.accuracy(m, __import__('numpy').zeros((3, 4, 4), 'uint8'), [0, 1, 0])
        assert not {'keras', 'tensorflow'} & set(sys.modules), 'keras imported'
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_output_shape_and_train_mode_restored():
    model = lenet5()
    model.train()
    assert checks.output_shape(model, (1, 1, 32, 32), (None, 10)) == (None, 10)
    assert model.training
    assert checks.output_shape(model, (2, 1, 32, 32), (2, 10)) == (2, 10)
    with pytest.raises(CheckFailed, match=r"expected output shape \(None, 10\), got \(None, 1\)"):
        checks.output_shape(lenet5(head=1), (1, 1, 32, 32), (None, 10))
    with pytest.raises(CheckFailed, match=r"input of shape \(1, 1, 28, 28\) failed with RuntimeError"):
        checks.output_shape(model, (1, 1, 28, 28), (None, 10))


def test_param_count_lenet():
    assert checks.param_count(lenet5(), 61_706) == 61_706
    with pytest.raises(CheckFailed, match=r"expected 61,706 parameters, got 81,194"):
        checks.param_count(lenet5(kernel=3), 61_706)


def test_alexnet_known_facts():
    alexnet = torchvision.models.alexnet()
    checks.param_count(alexnet, 61_100_840)
    checks.output_shape(alexnet, (1, 3, 224, 224), (None, 1000))
    assert checks.conv_layers(alexnet)[0] == ((11, 11), (4, 4), (2, 2), 64)
    assert len(checks.conv_layers(alexnet)) == 5
    checks.layer_sequence(alexnet, ["conv", "pool_max"] * 2 + ["conv"] * 3 + ["pool_max", "dropout",
                                    "dense", "dropout", "dense", "dense"])


def test_layer_kinds_definition_and_call_order():
    assert checks.layer_kinds(lenet5()) == ["conv", "activation", "pool_avg", "conv", "activation",
                                            "pool_avg", "flatten", "dense", "activation", "dense",
                                            "activation", "dense"]
    checks.layer_sequence(lenet5(), ["conv", "pool", "conv", "pool", "dense", "dense", "dense"])
    model = OutOfOrder()
    assert checks.layer_kinds(model) == ["dense", "pool_max", "conv"]
    assert checks.layer_kinds(model, input_shape=(1, 1, 8, 8)) == ["conv", "pool_max", "dense"]
    with pytest.raises(CheckFailed, match=r"your model has: dense -> pool_max -> conv"):
        checks.layer_sequence(model, ["conv", "pool", "dense"])
    checks.layer_sequence(model, ["conv", "pool", "dense"], input_shape=(1, 1, 8, 8))


def test_frozen_vs_trainable():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.LazyLinear(2))
    model(torch.zeros(1, 3, 6, 6))
    with pytest.raises(CheckFailed, match="base to be frozen.*requires_grad = False"):
        checks.transfer_frozen(model)
    for p in model[0].parameters():
        p.requires_grad = False
    assert checks.frozen_vs_trainable(model) == (224, 8 * 16 * 2 + 2)
    checks.param_count(model, 258, trainable=True)
    with pytest.raises(CheckFailed, match="expected 100 trainable parameters, got 258"):
        checks.param_count(model, 100, trainable=True)


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    x, y = quadrant_data()
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).astype("float32") / 255)
    yt = torch.from_numpy(y)
    model = nn.Sequential(nn.Conv2d(1, 4, 4, stride=4), nn.Flatten(), nn.Linear(16, 4))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model


def test_accuracy_trained_passes_untrained_fails(trained):
    x, y = quadrant_data(seed=1)
    assert checks.accuracy_at_least(trained, x, y, 0.9) >= 0.9   # NHWC uint8 in
    assert trained.training  # mode restored
    const = nn.Sequential(nn.Conv2d(1, 4, 4, stride=4), nn.Flatten(), nn.Linear(16, 4))
    nn.init.zeros_(const[2].weight)
    nn.init.zeros_(const[2].bias)
    with pytest.raises(CheckFailed, match=r"test accuracy 0\.2\d\d on 400 held-out images is below "
                                          r"0\.90 — a model at chance level scores about 0\.2"):
        checks.accuracy_at_least(const, x, y, 0.9)
    with pytest.raises(CheckFailed, match="below the required threshold for this question"):
        checks.accuracy_at_least(const, x, torch.from_numpy(y), 0.9, reveal_threshold=False)


def test_inputs_are_adapted_to_the_model(trained):
    x, y = quadrant_data(seed=2)
    acc = checks.accuracy(trained, x, y)
    assert checks.accuracy(trained, x.transpose(0, 3, 1, 2), y) == acc            # NCHW
    assert checks.accuracy(trained, x[..., 0], y) == acc                           # (N, H, W)
    assert checks.accuracy(trained, x.reshape(len(x), -1), y) == acc               # flattened
    assert checks.accuracy(trained, torch.from_numpy(x.transpose(0, 3, 1, 2)), y) == acc
    rgb = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert checks.predict_labels(rgb, x).shape == (len(x),)  # gray repeated to RGB
    mlp = nn.Sequential(nn.Linear(64, 4))  # no nn.Flatten: gets flattened images
    assert checks.predict_labels(mlp, x).shape == (len(x),)


def test_binary_logit_output():
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight[:] = torch.tensor([[10.0, 0.0]])
        model.bias.zero_()
    x = np.array([[1.0, 0], [-1.0, 0], [0.2, 5]], dtype="float32")
    np.testing.assert_array_equal(checks.predict_labels(model, x), [1, 0, 1])


def test_history_from_a_torch_training_loop():
    history = [{"train_loss": 1.0, "train_acc": 0.5}, {"train_loss": 0.4, "train_acc": 0.8}]
    assert checks.history_metric(history, "accuracy") == [0.5, 0.8]
    assert checks.history_metric({"loss": [torch.tensor(1.0), torch.tensor(0.5)]}, "loss") == [1.0, 0.5]
