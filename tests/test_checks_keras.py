"""Checks on Keras models: each passes on a right answer and fails, with an actionable
message, on a wrong one."""

import torch  # noqa: F401  -- torch and torchvision before keras: the other order crashes
import torchvision  # noqa: F401

import numpy as np
import pytest

import keras
from keras import layers

from autograder import checks
from helpers import quadrant_data
from autograder.checks import CheckFailed


def lenet5(kernel=5, head=10):
    return keras.Sequential([
        keras.Input((32, 32, 1)),
        layers.Conv2D(6, kernel, activation="tanh"), layers.AveragePooling2D(2),
        layers.Conv2D(16, kernel, activation="tanh"), layers.AveragePooling2D(2),
        layers.Flatten(), layers.Dense(120, activation="tanh"),
        layers.Dense(84, activation="tanh"), layers.Dense(head, activation="softmax" if head > 1 else "sigmoid"),
    ])


@pytest.fixture(scope="module")
def lenet():
    return lenet5()




# ------------------------------------------------------------------ names and frameworks
def test_require_returns_values_and_names_the_missing_one():
    ns = {"model": 1, "history": 2}
    assert checks.require(ns, "model", "history") == (1, 2)
    with pytest.raises(CheckFailed, match=r"variable named `test_accuracy`.*accuracy on the test set"):
        checks.require(ns, "model", "test_accuracy")
    with pytest.raises(CheckFailed, match=r"`history`.*return value of model.fit"):
        checks.require({"history": None}, "history")
    assert isinstance(CheckFailed("x"), AssertionError)


def test_expect_type(lenet):
    assert checks.expect_type(lenet, "model", "model") is lenet
    assert checks.expect_type(0.9, "number", "test_accuracy") == 0.9
    with pytest.raises(CheckFailed, match=r"`test_accuracy` should be a number, got str"):
        checks.expect_type("98%", "number", "test_accuracy")


def test_framework_of(lenet):
    assert checks.framework_of(lenet) == "keras"
    assert checks.framework_of(layers.Dense(3)) == "keras"
    with pytest.raises(CheckFailed, match="Keras model or a PyTorch nn.Module"):
        checks.framework_of(np.zeros(3))


# ------------------------------------------------------------------ structure
def test_output_shape(lenet):
    assert checks.output_shape(lenet, (1, 32, 32, 1), (None, 10)) == (None, 10)
    with pytest.raises(CheckFailed, match=r"expected output shape \(None, 10\), got \(None, 1\)"):
        checks.output_shape(lenet5(head=1), (1, 32, 32, 1), (None, 10))
    with pytest.raises(CheckFailed, match=r"input of shape \(1, 28, 28\) failed with"):
        checks.output_shape(lenet, (1, 28, 28), (None, 10))


def test_param_count_lenet(lenet):
    assert checks.count_params(lenet) == 61_706
    assert checks.param_count(lenet, 61_706) == 61_706
    with pytest.raises(CheckFailed, match=r"expected 61,706 parameters, got 81,194"):
        checks.param_count(lenet5(kernel=3), 61_706)
    with pytest.raises(CheckFailed) as err:
        checks.param_count(lenet5(kernel=3), 61_706, reveal=False)
    assert "81,194" in str(err.value) and "61,706" not in str(err.value)


def test_unbuilt_model_is_reported():
    with pytest.raises(CheckFailed, match="not built yet"):
        checks.count_params(keras.Sequential([layers.Dense(3)]))


def test_vgg16_param_count_known_fact():
    vgg = keras.applications.VGG16(weights=None)
    checks.param_count(vgg, 138_357_544)
    assert checks.output_shape(vgg, (1, 224, 224, 3), (None, 1000))
    assert checks.layer_kinds(vgg).count("conv") == 13


def test_layer_kinds_and_sequence(lenet):
    assert checks.layer_kinds(lenet) == ["conv", "pool_avg", "conv", "pool_avg", "flatten",
                                         "dense", "dense", "dense"]
    checks.layer_sequence(lenet, ["conv", "pool", "conv", "pool", "dense", "dense", "dense"])
    checks.layer_sequence(lenet, checks.layer_kinds(lenet), subsequence=False)
    no_pool = keras.Sequential([keras.Input((32, 32, 1)), layers.Conv2D(6, 5), layers.Conv2D(16, 5),
                                layers.Flatten(), layers.Dense(10)])
    with pytest.raises(CheckFailed) as err:
        checks.layer_sequence(no_pool, ["conv", "pool", "conv", "pool", "dense"])
    msg = str(err.value)
    assert "conv -> pool -> conv -> pool -> dense" in msg
    assert "your model has: conv -> conv -> flatten -> dense" in msg
    assert "#2 `pool`" in msg
    with pytest.raises(CheckFailed, match="differ at layer #2"):
        checks.layer_sequence(lenet, ["conv", "pool_max"], subsequence=False)


def test_nested_model_layers_are_flattened():
    base = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(4, 3), layers.MaxPooling2D(2)])
    model = keras.Sequential([keras.Input((16, 16, 3)), base, layers.GlobalAveragePooling2D(),
                              layers.Dense(2, activation="softmax")])
    assert checks.layer_kinds(model) == ["conv", "pool_max", "pool_global_avg", "dense"]


def test_conv_layers(lenet):
    assert checks.conv_layers(lenet) == [((5, 5), (1, 1), "valid", 6), ((5, 5), (1, 1), "valid", 16)]


def test_transfer_frozen():
    base = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(8, 3), layers.Flatten()])
    model = keras.Sequential([keras.Input((16, 16, 3)), base, layers.Dense(2)])
    with pytest.raises(CheckFailed, match="base to be frozen"):
        checks.transfer_frozen(model)
    base.trainable = False
    frozen, trainable = checks.frozen_vs_trainable(model)
    assert (frozen, trainable) == (224, 14 * 14 * 8 * 2 + 2)
    assert checks.transfer_frozen(model) == (frozen, trainable)
    checks.param_count(model, trainable, trainable=True)


# ------------------------------------------------------------------ accuracy and history
@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    x, y = quadrant_data()
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(),
                              layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x.astype("float32") / 255, y, epochs=15, batch_size=32,
                        validation_split=0.2, verbose=0)
    return model, history


def test_accuracy_trained_passes_untrained_fails(trained):
    model, _ = trained
    x, y = quadrant_data(seed=1)
    assert checks.accuracy_at_least(model, x, y, 0.9) >= 0.9
    # constant predictor: chance level, with the hint
    const = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(),
                              layers.Dense(4, kernel_initializer="zeros", activation="softmax")])
    with pytest.raises(CheckFailed) as err:
        checks.accuracy_at_least(const, x, y, 0.9)
    msg = str(err.value)
    assert msg.startswith("test accuracy 0.2") and "on 400 held-out images is below 0.90" in msg
    assert "chance level" in msg and "loss going down" in msg
    with pytest.raises(CheckFailed) as err:
        checks.accuracy_at_least(const, x, keras.utils.to_categorical(y, 4), 0.9,
                                 reveal_threshold=False)
    assert "below the required threshold for this question" in str(err.value)
    assert "0.90" not in str(err.value)


def test_inputs_are_adapted_to_the_model(trained):
    model, _ = trained
    x, y = quadrant_data(seed=2)
    acc = checks.accuracy(model, x, y)
    assert checks.accuracy(model, x[..., 0], y) == acc             # (N, H, W)
    assert checks.accuracy(model, x.reshape(len(x), -1), y) == acc  # flattened
    assert checks.accuracy(model, x.transpose(0, 3, 1, 2), y) == acc  # NCHW
    flat = keras.Sequential([keras.Input((64,)), layers.Dense(4)])
    assert checks.predict_labels(flat, x).shape == (len(x),)


def test_binary_sigmoid_output():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.array([[10.0], [0.0]]), np.array([0.0])])
    x = np.array([[1.0, 0], [-1.0, 0], [2.0, 5]], dtype="float32")
    np.testing.assert_array_equal(checks.predict_labels(model, x), [1, 0, 1])
    assert checks.accuracy(model, x, np.array([[1], [0], [0]])) == pytest.approx(2 / 3)


def test_history_metric(trained):
    _, history = trained
    acc = checks.history_metric(history, "accuracy")
    assert len(acc) == 15 and acc == checks.history_metric(history, "acc")
    assert len(checks.history_metric(history, "val_acc")) == 15
    assert checks.history_metric({"acc": [0.5, 0.7]}, "accuracy") == [0.5, 0.7]
    assert checks.history_metric([{"loss": 1.0, "val_accuracy": 0.4}, {"loss": 0.5, "val_accuracy": 0.6}],
                                 "val_acc") == [0.4, 0.6]
    with pytest.raises(CheckFailed, match=r"no 'val_accuracy' entry \(pass validation_data.*it has: acc"):
        checks.history_metric({"acc": [0.5]}, "val_accuracy")


def test_reported_values():
    assert checks.value_at_least(0.95, 0.9) == 0.95
    with pytest.raises(CheckFailed, match="test_accuracy 0.420 is below the required threshold"):
        checks.value_at_least(0.42, 0.9, reveal_threshold=False)
    assert checks.matches_reported(97.0, 0.975) == 0.97
    with pytest.raises(CheckFailed, match="you reported test_accuracy = 0.990, but the model scores 0.500"):
        checks.matches_reported(0.99, 0.5)
