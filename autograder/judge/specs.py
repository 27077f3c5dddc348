"""What each check measures (its *request*, sent into the kernel) and how it is judged (*expect*, never sent).

A grade cell calls ``check("<id>")`` and, in its hidden part, ``check("<id>", hidden=True)``; the
key of the hidden part is ``"<id>#hidden"``. A request may depend on the profile's budget row of
its question (``image_size``): such requests are functions of that row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

Request = Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Spec:
    kind: str                       # the kernel's collector and the judge's verdict
    question: str                   # the profile row ("cnn_foundations.q6") for budgets and thresholds
    request: Request = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)


Q2_CASES = [(n, f, p, s) for n in (7, 28, 33) for f in (1, 3, 5) for p in (0, 1, 2) for s in (1, 2, 3)]
Q2_CASES += [(32, 5, 2, 2), (224, 11, 2, 4), (227, 11, 0, 4), (13, 3, 1, 2)]
LENET_RF = [(5, 1), (2, 2), (5, 1), (2, 2)]
ALEXNET_RF = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
Q4_CASES = [(3, 3, 3, 64), (11, 11, 3, 96), (1, 1, 256, 64), (5, 3, 16, 8), (5, 5, 6, 16),
            (3, 3, 3, 64, False), (7, 7, 3, 64, False)]


def _function(question: str, name: str, cases: list) -> Spec:
    return Spec("function", question, {"function": name, "cases": [list(c) for c in cases]},
                {"reference": name})


def _image_model(question: str, channels: int, outputs: tuple[int, ...], classes: int | None = None,
                 folder: str | None = None) -> Spec:
    def request(row: Mapping[str, Any]) -> dict[str, Any]:
        size = row["image_size"]
        return {"input_shape": [1, size, size, channels], "classes": classes}
    return Spec("model", question, request, {"outputs": outputs, "folder": folder})


# LeNet-5 (LeCun et al., 1998) and the layouts students commonly write, told apart by parameter count;
# ReLU and max-pooling in place of tanh and average pooling change no parameter and are accepted.
LENET5 = {"name": "LeNet-5", "widths": (6, 16, 120, 84, 10), "kernels": ((5, 5), (5, 5)),
          "variants": {61706: "the classic 32x32 layout (or 28x28 with padding='same' in C1)",
                       44426: "28x28 input without padding: C5 sees 4x4x16 = 256 inputs"}}

# LeNet-5 answers take 32x32 (classic) or 28x28 digits, in the student's framework of choice
LENET_INPUT = {"image": {"sizes": [32, 28], "channels": 1}, "classes": 10}

# VGG16's layers by name (Keras): the base's conv and pool layers, and its last block
VGG_LAYERS = {"base_layers": r"block\d+_", "last_blocks": r"block[45]_", "min_frozen": 14_714_688}
CIFAR_INPUT = {"image": {"sizes": [32], "channels": 3}, "classes": 10}

# Training curves with a known diagnosis (far from the borders of formulas.fit_diagnosis)
def _curves(train: list[float], val: list[float]) -> dict[str, list[float]]:
    return {"accuracy": train, "val_accuracy": val}


FIT_VISIBLE = [(_curves([0.6, 0.85, 0.97, 0.99], [0.58, 0.7, 0.69, 0.66]),),
               (_curves([0.3, 0.38, 0.41, 0.43], [0.31, 0.37, 0.4, 0.41]),)]
FIT_HIDDEN = FIT_VISIBLE + [(_curves([0.7, 0.85, 0.9, 0.92], [0.68, 0.83, 0.88, 0.9]),),
                            (_curves([0.5, 0.8, 0.95, 1.0], [0.5, 0.6, 0.62, 0.61]),),
                            (_curves([0.2, 0.25, 0.3, 0.33], [0.21, 0.24, 0.28, 0.3]),),
                            (_curves([0.8, 0.9, 0.95, 0.96], [0.79, 0.9, 0.93, 0.94]),)]

F = "cnn_foundations"
SPECS: dict[str, Spec] = {
    # Q2-Q4: functions on grader-chosen inputs; expected values from the judge's own formulas
    f"{F}.q2": _function(f"{F}.q2", "conv_output_size", [(32, 5, 0, 1), (28, 3, 1, 1), (224, 11, 2, 4)]),
    f"{F}.q2#hidden": _function(f"{F}.q2", "conv_output_size", Q2_CASES),
    f"{F}.q3": _function(f"{F}.q3", "receptive_field", [([(3, 1), (3, 1)],), ([(3, 1), (3, 1), (3, 1)],)]),
    f"{F}.q3#hidden": _function(f"{F}.q3", "receptive_field",
                                [(LENET_RF,), (ALEXNET_RF,), ([(7, 2), (3, 2)],), ([],)]),
    f"{F}.q4": _function(f"{F}.q4", "conv_params", [(3, 3, 3, 64), (5, 5, 1, 6)]),
    f"{F}.q4#hidden": _function(f"{F}.q4", "conv_params", Q4_CASES),
    # Q6 Keras MNIST
    f"{F}.q6.model": Spec("model", f"{F}.q6", {"input_shape": [1, 28, 28, 1], "classes": 10},
                          {"outputs": (10,), "layers": ("conv", "dense")}),
    f"{F}.q6.accuracy": Spec("model", f"{F}.q6", {"input_shape": [1, 28, 28, 1], "classes": 10}, {}),
    f"{F}.q6.accuracy#hidden": Spec("predictions", f"{F}.q6", {"dataset": "mnist", "classes": 10},
                                    {"dataset": "mnist"}),
    # Q7 Keras CIFAR-10
    f"{F}.q7.preprocess": Spec("preprocessed", f"{F}.q7", {"dataset": "cifar10", "name": "x_train"},
                               {"shape": (32, 32, 3)}),
    f"{F}.q7.model": Spec("model", f"{F}.q7", {"input_shape": [1, 32, 32, 3], "classes": 10},
                          {"outputs": (10,), "layers": ("conv", "dense")}),
    f"{F}.q7.accuracy": Spec("model", f"{F}.q7", {"input_shape": [1, 32, 32, 3], "classes": 10}, {}),
    f"{F}.q7.accuracy#hidden": Spec("predictions", f"{F}.q7", {"dataset": "cifar10", "classes": 10},
                                    {"dataset": "cifar10"}),
    # Q8 PyTorch MNIST
    f"{F}.q8.loaders": Spec("loaders", f"{F}.q8", {}, {"image_shape": (1, 28, 28)}),
    f"{F}.q8.model": Spec("model", f"{F}.q8", {"input_shape": [2, 1, 28, 28], "classes": 10},
                          {"outputs": (10,), "layers": ("conv", "dense")}),
    f"{F}.q8.accuracy": Spec("model", f"{F}.q8", {"input_shape": [2, 1, 28, 28], "classes": 10}, {}),
    f"{F}.q8.accuracy#hidden": Spec("predictions", f"{F}.q8", {"dataset": "mnist", "classes": 10},
                                    {"dataset": "mnist"}),
    # Q9 ImageDataGenerator on a class-per-folder directory
    f"{F}.q9.iterator": Spec("iterator", f"{F}.q9", {}, {"folder": "custom_images"}),
    f"{F}.q9.model": _image_model(f"{F}.q9", 3, (), folder="custom_images"),
    f"{F}.q9.model#hidden": Spec("history", f"{F}.q9", {}, {"metrics": ("val_accuracy",)}),
    f"{F}.q9.accuracy": _image_model(f"{F}.q9", 3, (), folder="custom_images"),
    f"{F}.q9.accuracy#hidden": Spec("predictions", f"{F}.q9", {"folder": "custom_images"},
                                    {"dataset": "custom_images"}),
    # Q10 chest X-ray: model, saved file, held-out accuracy, the Streamlit app
    f"{F}.q10.model": _image_model(f"{F}.q10", 1, (1, 2)),
    f"{F}.q10.saved": Spec("ran", f"{F}.q10", {}, {"file": "xray_model.keras"}),
    f"{F}.q10.accuracy": _image_model(f"{F}.q10", 1, ()),
    f"{F}.q10.accuracy#hidden": Spec("predictions", f"{F}.q10", {"folder": "chest_xray"},
                                     {"dataset": "chest_xray"}),
    f"{F}.q10.app": Spec("ran", f"{F}.q10", {}, {"file": "app.py"}),
    f"{F}.q10.app#hidden": Spec("app", f"{F}.q10", {"app": "app.py", "folder": "chest_xray", "images": 6,
                                                       "preload": ["keras"]},   # the app loads xray_model.keras
                                {"dataset": "chest_xray", "min_correct": 4}),
}

A = "cnn_architectures"
SPECS.update({
    # Q1: a dense layer vs a conv layer on the same image (the formulas agree with real layers' count_params)
    f"{A}.q1.dense": _function(f"{A}.q1", "dense_params_on_image", [(28, 28, 1, 128), (32, 32, 3, 100)]),
    f"{A}.q1.dense#hidden": _function(f"{A}.q1", "dense_params_on_image",
                                      [(224, 224, 3, 4096), (64, 64, 1, 10), (7, 7, 512, 4096), (1, 1, 1, 1)]),
    f"{A}.q1.conv": _function(f"{A}.q1", "conv_params_on_image", [(28, 28, 1, 32, 3), (32, 32, 3, 64, 5)]),
    f"{A}.q1.conv#hidden": _function(f"{A}.q1", "conv_params_on_image",
                                     [(224, 224, 3, 64, 3), (224, 224, 3, 96, 11), (7, 7, 512, 512, 1), (64, 64, 1, 6, 5)]),
    # Q3: AlexNet vs VGG16, counted on the real (torchvision) models
    f"{A}.q3.counts": Spec("values", f"{A}.q3", {"names": ["alexnet_params", "vgg16_params"]},
                           {"values": {"alexnet_params": 61_100_840, "vgg16_params": 138_357_544},
                            "hints": {"alexnet_params": " (torchvision.models.alexnet(weights=None))",
                                      "vgg16_params": " (torchvision.models.vgg16(weights=None))"}}),
    # Q5: a residual block keeps the shape; its shortcut keeps the gradient alive through a deep stack
    f"{A}.q5.block": Spec("residual", f"{A}.q5", {"class": "ResidualBlock", "channels": 8, "size": 16, "depth": 20},
                          {"min_ratio": 100}),
    f"{A}.q5.block#hidden": Spec("residual", f"{A}.q5", {"class": "ResidualBlock", "channels": 6, "size": 9, "depth": 30},
                                 {"min_ratio": 100}),
    # Q6: LeNet-5 in Keras or PyTorch, 28x28 or 32x32 input: structure, held-out accuracy, training time
    f"{A}.q6.model": Spec("model", f"{A}.q6", LENET_INPUT, {"outputs": (10,), "architecture": LENET5}),
    f"{A}.q6.accuracy": Spec("model", f"{A}.q6", LENET_INPUT, {}),
    f"{A}.q6.accuracy#hidden": Spec("predictions", f"{A}.q6", {"dataset": "mnist", **LENET_INPUT}, {"dataset": "mnist"}),
    f"{A}.q6.time": Spec("training_time", f"{A}.q6", LENET_INPUT, {"factor": 2.0, "floor_s": 0.5}),
    # Q7: VGG16 transfer learning on a small image folder: a frozen base, then its last block fine-tuned
    f"{A}.q7.model": _image_model(f"{A}.q7", 3, (), folder="custom_images"),
    f"{A}.q7.frozen": Spec("transfer", f"{A}.q7", {}, {"part": "frozen", **VGG_LAYERS}),
    f"{A}.q7.finetune": Spec("transfer", f"{A}.q7", {}, {"part": "finetune", **VGG_LAYERS}),
    f"{A}.q7.preprocess": Spec("transfer", f"{A}.q7", {}, {"part": "preprocess", **VGG_LAYERS}),
    f"{A}.q7.accuracy": _image_model(f"{A}.q7", 3, (), folder="custom_images"),
    f"{A}.q7.accuracy#hidden": Spec("predictions", f"{A}.q7", {"folder": "custom_images"},
                                    {"dataset": "custom_images"}),
    # Q8: AlexNet's first layer on a photo: its filters, its feature maps and the figures of both
    f"{A}.q8.tensors": Spec("first_layer", f"{A}.q8", {"filters": "filters", "maps": "feature_maps"},
                            {"filter_shapes": [(64, 3, 11, 11), (96, 3, 11, 11), (11, 11, 3, 96), (11, 11, 3, 64)],
                             "map_sizes": (54, 55, 56)}),
    f"{A}.q8.figures": Spec("panels", f"{A}.q8", {"filters": "filters", "maps": "feature_maps"},
                            {"map_sizes": (54, 55, 56)}),
    # Q9: Inception on CIFAR-10: a module read from the layer graph, held-out accuracy, the saved curves
    f"{A}.q9.inception": Spec("graph", f"{A}.q9", CIFAR_INPUT, {"min_modules": 1}),
    f"{A}.q9.accuracy": Spec("model", f"{A}.q9", CIFAR_INPUT, {"outputs": (10,)}),
    f"{A}.q9.accuracy#hidden": Spec("predictions", f"{A}.q9", {"dataset": "cifar10", **CIFAR_INPUT},
                                    {"dataset": "cifar10"}),
    f"{A}.q9.curves": Spec("curves", f"{A}.q9", {}, {}),
    # Q9: a diagnosis of training curves, judged on histories with known answers
    f"{A}.q9.diagnosis": Spec("function", f"{A}.q9", {"function": "diagnose_fit", "cases": [list(c) for c in FIT_VISIBLE]},
                              {"reference": "fit_diagnosis", "labels": True}),
    f"{A}.q9.diagnosis#hidden": Spec("function", f"{A}.q9",
                                     {"function": "diagnose_fit", "cases": [list(c) for c in FIT_HIDDEN]},
                                     {"reference": "fit_diagnosis", "labels": True}),
})


# Q10: three-class X-ray triage with limited data (a pretrained base, class weights, per-class results)
TRIAGE = "xray_triage"


def _triage_input(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"image": {"sizes": [row["image_size"]], "channels": 3}, "classes": 3}


REPORT_VISIBLE = [([0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1], 3), ([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], 3)]
REPORT_HIDDEN = REPORT_VISIBLE + [([0, 0, 0, 1, 2, 2, 2, 2], [0, 1, 1, 1, 2, 0, 2, 2], 3),
                                  ([2, 2, 1, 1, 1, 0], [1, 1, 1, 1, 1, 0], 3),          # class 2 never predicted
                                  ([1, 1, 1, 1], [1, 0, 1, 1], 3),                      # class 2 never present
                                  ([0, 1, 2, 3, 3, 2], [0, 1, 3, 3, 2, 2], 4)]
SPECS.update({
    f"{A}.q10.weights": Spec("class_weights", f"{A}.q10", {"names": ["class_weights", "class_weight"]},
                             {"dataset": TRIAGE, "tolerance": 0.25}),
    f"{A}.q10.model": Spec("model", f"{A}.q10", _triage_input, {"outputs": (3,)}),
    f"{A}.q10.frozen": Spec("frozen", f"{A}.q10", _triage_input, {"min_frozen": 100_000, "min_frozen_share": 0.9}),
    f"{A}.q10.report": Spec("function", f"{A}.q10", {"function": "per_class_report", "cases": [list(c) for c in REPORT_VISIBLE]},
                            {"reference": "per_class_report", "report": True}),
    f"{A}.q10.report#hidden": Spec("function", f"{A}.q10", {"function": "per_class_report", "cases": [list(c) for c in REPORT_HIDDEN]},
                                   {"reference": "per_class_report", "report": True}),
    f"{A}.q10.saved": Spec("saved", f"{A}.q10", _triage_input,
                           {"files": ["xray_triage.pt", "xray_triage.keras", "xray_triage.pth"], "outputs": 3}),
    f"{A}.q10.predict": Spec("predict_files", f"{A}.q10", {"function": "predict_xray", "folder": TRIAGE, "limit": 5},
                             {"dataset": TRIAGE}),
    f"{A}.q10.predict#hidden": Spec("predict_files", f"{A}.q10", {"function": "predict_xray", "folder": TRIAGE},
                                    {"dataset": TRIAGE, "score": True}),
})


P = "pooling_lenet_alexnet"


def _pool_cases(cases: list[tuple]) -> list[dict[str, Any]]:
    """(shape N,H,W,C, args (pool_size[, stride[, padding]]), integer values?) -> requests with a seed each."""
    return [{"shape": list(shape), "seed": 100 + i, "args": list(args), **({"ints": True} if ints else {})}
            for i, (shape, args, ints) in enumerate(cases)]


POOL_VISIBLE = _pool_cases([((1, 4, 4, 1), (2, 2), True), ((2, 6, 6, 3), (3, 3), False)])
POOL_HIDDEN = _pool_cases([
    ((1, 4, 4, 1), (2, 2), True), ((2, 6, 6, 3), (3, 3), False), ((3, 8, 8, 1), (2,), False),   # stride = window
    ((2, 7, 9, 3), (3, 2), False), ((1, 11, 11, 2), (3, 2), True), ((2, 5, 5, 4), (2, 1), False),  # odd, overlapping
    ((1, 13, 13, 1), (3, 2, 1), False), ((2, 7, 7, 3), (2, 2, 1), True), ((1, 9, 7, 5), (4, 3, 2), False),  # padding
    ((4, 10, 10, 2), (5, 3, 2), False), ((1, 1, 1, 1), (1, 1), False), ((2, 6, 6, 1), (3, 3, 1), True),
])
SIZE_VISIBLE = [(28, 3, 1, "same"), (28, 3, 1, "valid"), (7, 3, 2, "same"), (32, 5, 2, "valid")]
SIZE_HIDDEN = [(n, f, s, pad) for n in (5, 7, 28, 32, 33, 224, 227) for f in (1, 2, 3, 5, 11) for s in (1, 2, 3, 4)
               for pad in ("same", "valid") if f <= n]
# AlexNet (Krizhevsky, Sutskever, Hinton 2012): 5 conv + 3 dense; the first convolutions' kernels and strides
# tell the accepted layouts apart. Parameter counts for 224/227x227x3 and 10 classes are computed by the judge
# from these layouts (tests/test_alexnet_reference.py builds them as real layers).
ALEXNET = {"name": "AlexNet", "convs": 5, "dense": 3, "later_kernel": 3,
           "variants": [{"name": "the classic layout for 224x224 or 227x227 images (11x11 stride 4, 5x5, then 3x3)",
                         "first": [[[11], [4]], [[5], [1]]]},
                        {"name": "the small-input variant for 28x28 to 32x32 images (3x3 or 5x5 at stride 1 in place "
                                 "of 11x11/4 and 5x5, then 3x3)", "first": [[[3, 5], [1]], [[3, 5], [1]]]}]}
PAPER_LAYOUT = {"convs": [(11, 3, 96), (5, 96, 256), (3, 256, 384), (3, 384, 384), (3, 384, 256)], "flat": 9216,
                "hidden": (4096, 4096)}
TORCHVISION_LAYOUT = {"convs": [(11, 3, 64), (5, 64, 192), (3, 192, 384), (3, 384, 256), (3, 256, 256)], "flat": 9216,
                      "hidden": (4096, 4096)}
ALEXNET_LAYOUTS = {
    "the one-GPU form of the paper's layout (96-256-384-384-256)": PAPER_LAYOUT,
    "torchvision's layout (64-192-384-256-256)": TORCHVISION_LAYOUT,
    # 224x224 through an unpadded 11x11/4 first layer: 54 -> 26 -> 12 -> 5, so 5x5x256 = 6400 into fc1
    "the paper's layout on 224x224 without padding in the first layer (6,400 inputs to fc1)": {**PAPER_LAYOUT, "flat": 6400},
    "torchvision's layout on 224x224 without padding in the first layer (6,400 inputs to fc1)":
        {**TORCHVISION_LAYOUT, "flat": 6400},
}
ALEXNET_PARAMS = {"classes": 10, "classic_sizes": (224, 227), "layouts": ALEXNET_LAYOUTS}
# AlexNet answers: MNIST digits at 28x28 or 32x32 (small-input variant), or upscaled to 224/227 (classic), 1 or 3 channels
ALEXNET_INPUT = {"image": {"sizes": [28, 32, 227, 224], "channels": [1, 3]}, "classes": 10}
CHANCE_HINT = (". A training loss that stays near ln(10) = 2.30 means the network learns nothing: try a smaller "
               "learning rate (1e-3 with Adam, 0.01 with SGD), scale the pixels to [0, 1] (or standardise them) the same "
               "way for training and test, and check that the labels match the images")
# Q2's worked example: a thin bright line (9) on a dim background, pooled 2x2 with stride 2
# LeNet-5's stages C1, S2, C3, S4: 5x5 convolutions of 6 and 16 filters, 2x2 subsampling; C5 sees 5x5x16 or 4x4x16
LENET_STAGES = {"names": ("C1", "S2", "C3", "S4"), "widths": (6, 16), "kernel": 5, "pool": 2, "c5_inputs": (400, 256)}
FEATURE_MAP = [[1, 9, 2, 1], [2, 1, 9, 3], [3, 2, 1, 9], [9, 3, 2, 1]]

SPECS.update({
    # Q2: max and min pooling in NumPy on the grader's random batches; a worked example
    f"{P}.q2.max": Spec("arrays", f"{P}.q2", {"function": "max_pool2d", "cases": POOL_VISIBLE}, {"mode": "max"}),
    f"{P}.q2.max#hidden": Spec("arrays", f"{P}.q2", {"function": "max_pool2d", "cases": POOL_HIDDEN}, {"mode": "max"}),
    f"{P}.q2.min": Spec("arrays", f"{P}.q2", {"function": "min_pool2d", "cases": POOL_VISIBLE}, {"mode": "min"}),
    f"{P}.q2.min#hidden": Spec("arrays", f"{P}.q2", {"function": "min_pool2d", "cases": POOL_HIDDEN}, {"mode": "min"}),
    f"{P}.q2.example": Spec("example", f"{P}.q2", {"names": ["pooled_max", "pooled_min", "keeps_line"]},
                            {"feature_map": FEATURE_MAP,
                             "arrays": {"pooled_max": ("max", (2, 2)), "pooled_min": ("min", (2, 2))},
                             "choice": {"keeps_line": ("max", ("max", "min"))}}),
    # Q4: output sizes with 'same' and 'valid' padding (the formula agrees with real Conv2D / nn.Conv2d layers)
    f"{P}.q4.sizes": Spec("function", f"{P}.q4", {"function": "output_size", "cases": [list(c) for c in SIZE_VISIBLE]},
                          {"reference": "padded_output_size"}),
    f"{P}.q4.sizes#hidden": Spec("function", f"{P}.q4", {"function": "output_size",
                                                         "cases": [list(c) for c in SIZE_HIDDEN]},
                                 {"reference": "padded_output_size"}),
    # Q8: LeNet-5 in the student's framework: structure and parameter count (the cnn_architectures Q6 machinery),
    # the shape after every stage for the answer's input size, held-out accuracy
    f"{P}.q8.model": Spec("model", f"{P}.q8", LENET_INPUT, {"outputs": (10,), "architecture": LENET5}),
    f"{P}.q8.shapes": Spec("stages", f"{P}.q8", LENET_INPUT, LENET_STAGES),
    f"{P}.q8.accuracy": Spec("model", f"{P}.q8", LENET_INPUT, {}),
    f"{P}.q8.accuracy#hidden": Spec("predictions", f"{P}.q8", {"dataset": "mnist", **LENET_INPUT}, {"dataset": "mnist"}),
    # Q12: AlexNet, adapted to the dataset: structure (variant named), ReLU / overlapping pooling / dropout, the
    # parameter count, held-out accuracy, evaluation in eval mode
    f"{P}.q12.structure": Spec("architecture", f"{P}.q12", ALEXNET_INPUT, {"outputs": (10,), "architecture": ALEXNET}),
    f"{P}.q12.parts": Spec("alexnet_parts", f"{P}.q12", ALEXNET_INPUT, {}),
    f"{P}.q12.params": Spec("alexnet_params", f"{P}.q12", ALEXNET_INPUT, ALEXNET_PARAMS),
    f"{P}.q12.accuracy": Spec("model", f"{P}.q12", ALEXNET_INPUT, {"outputs": (10,)}),
    f"{P}.q12.accuracy#hidden": Spec("predictions", f"{P}.q12", {"dataset": "mnist", **ALEXNET_INPUT},
                                     {"dataset": "mnist", "chance_hint": CHANCE_HINT}),
    f"{P}.q12.eval": Spec("eval_mode", f"{P}.q12", ALEXNET_INPUT, {}),
})


def folders_of(assignment: str) -> tuple[str, ...]:
    """The image folders the checks of ``assignment`` read (what grading it must stage)."""
    names = set()
    for key, spec in SPECS.items():
        if key.startswith(f"{assignment}."):
            request = spec.request({"image_size": 1}) if callable(spec.request) else spec.request
            names |= {v for v in (request.get("folder"), spec.expect.get("folder"), spec.expect.get("dataset"))
                      if isinstance(v, str)}
    return tuple(sorted(names - {"mnist", "cifar10"}))


def request_for(key: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """What the kernel must measure for ``key`` (inputs only), given the question's budget row."""
    spec = SPECS[key]
    request = spec.request(row) if callable(spec.request) else dict(spec.request)
    return {"kind": spec.kind, **request}
