"""Installed in every grading kernel before the first cell runs.

Environment (set by the runner, see :mod:`.env`):
  AUTOGRADER_PROFILE      smoke | full: in smoke, idiomatic dataset loaders are served the profile's data
  AUTOGRADER_DATA         the student-visible data of the profile (npz files, image folders)
  AUTOGRADER_SEED         seed for random, NumPy, torch and Keras (default 0)
  AUTOGRADER_NO_NETWORK   1: refuse connections to anything but loopback (the sandbox has no network anyway)
  AUTOGRADER_MIXED_PRECISION 1: Keras mixed_float16 policy (only on a GPU worker)
  AUTOGRADER_GPU_MEMORY_FRACTION / _MB   this kernel's share of a GPU that several workers share
"""
from __future__ import annotations

import functools
import importlib.abc
import os
import random
import struct
import sys
from pathlib import Path
from typing import Callable

from . import env, figures, training

LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}
SERVED = {"mnist": "mnist.npz", "cifar10": "cifar10.npz"}


class NetworkDisabled(ConnectionRefusedError):
    """Raised when graded code tries to reach the network."""


def _network_guard(event: str, args: tuple) -> None:
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address and str(address[0]) not in LOOPBACK:
            raise NetworkDisabled(f"network access is disabled while grading (tried {address[0]}:{address[1]}); "
                                  "datasets and weights are provided by the grader")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if host not in (None, "") and str(host if not isinstance(host, bytes) else host.decode()) not in LOOPBACK:
            raise NetworkDisabled(f"network access is disabled while grading (tried to resolve {host!r}); "
                                  "datasets and weights are provided by the grader")


class _AfterImport(importlib.abc.MetaPathFinder):
    """Run a callback right after a named module has executed (lazy patching)."""

    def __init__(self, callbacks: dict[str, Callable]) -> None:
        self.callbacks = callbacks

    def find_spec(self, name, path, target=None):
        if name not in self.callbacks:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        callback, loader = self.callbacks.pop(name), spec.loader
        original = loader.exec_module

        def exec_module(module):
            original(module)
            callback(module)

        loader.exec_module = exec_module
        return spec


def _after_torch(module) -> None:
    module.manual_seed(env.seed())
    training.track_torch_losses(module)
    fraction = os.environ.get("AUTOGRADER_GPU_MEMORY_FRACTION")
    if fraction:
        try:
            if module.cuda.is_available():
                module.cuda.set_per_process_memory_fraction(float(fraction))
        except Exception:
            pass


def _after_tensorflow(module) -> None:
    """A GPU shared by several workers: this kernel's TensorFlow gets a memory limit (a logical device)."""
    limit = os.environ.get("AUTOGRADER_GPU_MEMORY_MB")
    if not limit:
        return
    try:
        config = module.config
        for gpu in config.list_physical_devices("GPU"):
            config.set_logical_device_configuration(gpu, [config.LogicalDeviceConfiguration(memory_limit=int(limit))])
    except Exception:
        pass


def _after_torch_optim(module) -> None:
    training.track_torch(module)


def _after_keras(module) -> None:
    from keras.src.utils import rng_utils
    rng_utils.set_random_seed(env.seed())
    if os.environ.get("AUTOGRADER_MIXED_PRECISION") == "1":
        from keras.src import dtype_policies
        dtype_policies.dtype_policy.set_dtype_policy("mixed_float16")
    training.track_keras(module)


def served_arrays(name: str):
    """``((x_train, y_train), (x_test, y_test))`` of a served dataset, as its Keras loader returns them."""
    import numpy as np

    path = Path(os.environ[env.DATA]) / SERVED[name]
    with np.load(path, allow_pickle=False) as f:
        description = str(f["description"])
        env.log_served(name, description)
        return (f["x_train"].copy(), f["y_train"].copy()), (f["x_test"].copy(), f["y_test"].copy())


def _route_keras(name: str) -> Callable:
    def patch(module) -> None:
        def load_data(*args, **kwargs):
            return served_arrays(name)

        load_data.__doc__ = "Served by the grader (the grading profile's data)."
        module.load_data = load_data
    return patch


def _write_idx(path: Path, array) -> None:
    import numpy as np
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def write_mnist_idx(root) -> Path:
    """Write the served MNIST where ``torchvision.datasets.MNIST(root)`` reads it (raw IDX files)."""
    raw = Path(root) / "MNIST" / "raw"
    (x, y), (xt, yt) = served_arrays("mnist")
    raw.mkdir(parents=True, exist_ok=True)
    for stem, array in [("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y),
                        ("t10k-images-idx3-ubyte", xt), ("t10k-labels-idx1-ubyte", yt)]:
        _write_idx(raw / stem, array)
    return raw


def _route_torchvision_mnist(module) -> None:
    original = module.MNIST.__init__

    def __init__(self, root, *args, **kwargs):
        if type(self) is module.MNIST:   # not FashionMNIST/EMNIST/KMNIST subclasses
            write_mnist_idx(root)
        original(self, root, *args, **kwargs)

    module.MNIST.__init__ = __init__


STANDIN_WEIGHTS = ("{name} weights: a random initialisation (stand-in for the pretrained ImageNet weights, "
                   "which do not install offline)")


def _route_torchvision_weights(module) -> None:
    """Pretrained torchvision weights (``alexnet(weights="IMAGENET1K_V1")``) served as the architecture's
    own seeded random initialisation, said so in the served log: the smoke profile checks shapes."""
    def get_state_dict(self, *args, **kwargs):
        import torchvision
        for name in torchvision.models.list_models():
            if torchvision.models.get_model_weights(name) is type(self):
                env.log_served(f"{name} weights", STANDIN_WEIGHTS.format(name=name))
                return torchvision.models.get_model(name, weights=None).state_dict()
        raise RuntimeError(f"no torchvision model uses {self!r}")

    module.WeightsEnum.get_state_dict = get_state_dict


KERAS_APPLICATIONS = {"keras.src.applications.vgg16": ("VGG16",), "keras.src.applications.resnet": ("ResNet50",),
                      "keras.src.applications.inception_v3": ("InceptionV3",),
                      "keras.src.applications.mobilenet_v2": ("MobileNetV2",)}


def _route_keras_applications(names: tuple[str, ...]) -> Callable:
    """``VGG16(weights="imagenet")`` built with a random initialisation (said so in the served log): no
    ImageNet weights install offline, and the smoke profile checks structure, freezing and fine-tuning."""
    def patch(module) -> None:
        for name in names:
            original = getattr(module, name)

            @functools.wraps(original)
            def builder(*args, _original=original, _name=name, **kwargs):
                if kwargs.get("weights", "imagenet") == "imagenet" and not args:
                    kwargs["weights"] = None
                    env.log_served(f"{_name} weights", STANDIN_WEIGHTS.format(name=_name))
                return _original(*args, **kwargs)

            setattr(module, name, builder)
    return patch


def callbacks(profile: str, data: str | None = None) -> dict[str, Callable]:
    found: dict[str, Callable] = {"torch": _after_torch, "torch.optim": _after_torch_optim, "keras": _after_keras,
                                  "tensorflow": _after_tensorflow,
                                  "matplotlib.figure": figures.track}
    if profile == "smoke" and data:
        found.update({
            "keras.src.datasets.mnist": _route_keras("mnist"),
            "keras.src.datasets.cifar10": _route_keras("cifar10"),
            "torchvision.datasets.mnist": _route_torchvision_mnist,
            "torchvision.models._api": _route_torchvision_weights,
            **{module: _route_keras_applications(names) for module, names in KERAS_APPLICATIONS.items()},
        })
    return found


def install() -> None:
    """Seed, guard the network, quiet the frameworks and route loaders for the profile."""
    seed = env.seed()
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    random.seed(seed)
    try:
        import numpy
        numpy.random.seed(seed)
    except ImportError:
        pass
    if os.environ.get("AUTOGRADER_NO_NETWORK") == "1":
        sys.addaudithook(_network_guard)
    pending = callbacks(env.profile(), os.environ.get(env.DATA))
    for name in [n for n in pending if n in sys.modules]:     # imported before the hook (e.g. by IPython)
        pending.pop(name)(sys.modules[name])
    sys.meta_path.insert(0, _AfterImport(pending))
