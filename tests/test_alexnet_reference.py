"""pooling_lenet_alexnet Q12: the AlexNet parameter counts the judge computes from its layouts agree with
real layers (torchvision's AlexNet, a Keras build of the paper's one-GPU layout on 227x227x3)."""
import torch  # noqa: F401  -- torch and torchvision before keras: the other order crashes
import torchvision

from autograder.judge import specs
from autograder.judge.verdicts import _layout_params

PAPER, TORCHVISION, PAPER_224, TORCHVISION_224 = list(specs.ALEXNET_LAYOUTS.values())


def test_torchvision_layout_count_matches_torchvision_alexnet():
    for classes in (10, 1000):
        model = torchvision.models.alexnet(weights=None, num_classes=classes)
        assert _layout_params(TORCHVISION, classes) == sum(p.numel() for p in model.parameters())
    assert _layout_params(TORCHVISION, 1000) == 61_100_840


def test_paper_layout_count_matches_a_keras_alexnet_on_227x227x3():
    import keras
    L = keras.layers
    model = keras.Sequential([
        keras.Input((227, 227, 3)),
        L.Conv2D(96, 11, strides=4, activation="relu"), L.MaxPooling2D(3, 2),
        L.Conv2D(256, 5, padding="same", activation="relu"), L.MaxPooling2D(3, 2),
        L.Conv2D(384, 3, padding="same", activation="relu"), L.Conv2D(384, 3, padding="same", activation="relu"),
        L.Conv2D(256, 3, padding="same", activation="relu"), L.MaxPooling2D(3, 2),
        L.Flatten(), L.Dropout(0.5), L.Dense(4096, activation="relu"), L.Dropout(0.5),
        L.Dense(4096, activation="relu"), L.Dense(10)])
    assert model.output_shape == (None, 10) and model.layers[-4].input.shape[-1] == PAPER["flat"]
    assert _layout_params(PAPER, 10) == model.count_params() == 58_322_314
    assert _layout_params(PAPER, 1000) == 62_378_344          # the count usually quoted for the paper


def test_the_unpadded_224_layouts_match_a_keras_alexnet_on_224x224x3():
    import keras
    L = keras.layers
    for layout, first in ((PAPER_224, 96), (TORCHVISION_224, 64)):
        widths = [c[2] for c in layout["convs"]]
        model = keras.Sequential([
            keras.Input((224, 224, 3)),
            L.Conv2D(first, 11, strides=4, activation="relu"), L.MaxPooling2D(3, 2),          # 54 -> 26
            L.Conv2D(widths[1], 5, padding="same", activation="relu"), L.MaxPooling2D(3, 2),  # 26 -> 12
            L.Conv2D(widths[2], 3, padding="same", activation="relu"),
            L.Conv2D(widths[3], 3, padding="same", activation="relu"),
            L.Conv2D(widths[4], 3, padding="same", activation="relu"), L.MaxPooling2D(3, 2),  # 12 -> 5
            L.Flatten(), L.Dense(4096, activation="relu"), L.Dense(4096, activation="relu"), L.Dense(10)])
        assert model.layers[-3].input.shape[-1] == layout["flat"] == 6400              # fc1 sees 5x5x256
        assert _layout_params(layout, 10) == model.count_params()

