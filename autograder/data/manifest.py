"""Registry of every dataset and weight file the course uses (name -> :class:`Entry`).

In the spirit of d2l's ``DATA_HUB`` and pooch registries. Hashes are the ones the upstream
library pins (keras ``get_file(file_hash=...)``, torchvision dataset md5s, the sha256 prefix
in torchvision weight file names, checked by ``torch.hub``). Hash strings are pooch style:
``"sha256:<hex>"``, ``"md5:<hex>"``, plus ``"sha256-prefix:<hex>"`` for torch.hub names.
Entries with no upstream hash have ``known_hash=None`` and must be pinned locally
(``fetch(name, pin=True)``) before use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"
TORCH_MODELS = "https://download.pytorch.org/models/"
TV_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"


@dataclass(frozen=True)
class Entry:
    """One downloadable file.

    ``keras_path`` is relative to ``$KERAS_HOME`` (e.g. ``datasets/mnist.npz``), ``torch_path``
    relative to ``$TORCH_HOME`` (``hub/checkpoints/...``) and ``torchvision_path`` relative to a
    torchvision dataset root (``MNIST/raw/...``): where the library looks for the file.
    """

    name: str
    url: str
    known_hash: str | None
    kind: Literal["dataset", "weights"]
    filename: str
    licence: str
    profiles: tuple[str, ...] = ("full",)
    keras_path: str | None = None
    torch_path: str | None = None
    torchvision_path: str | None = None
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pinned_upstream(self) -> bool:
        return self.known_hash is not None


def _keras_weights(name: str, folder: str, stem: str, md5: str, licence: str) -> Entry:
    filename = f"{stem}.h5"
    return Entry(name, f"{KERAS_APPS}{folder}/{filename}", f"md5:{md5}", "weights", filename,
                 licence, keras_path=f"models/{filename}")


def _torch_weights(name: str, filename: str, licence: str) -> Entry:
    prefix = filename.rsplit("-", 1)[1].split(".")[0]
    return Entry(name, f"{TORCH_MODELS}{filename}", f"sha256-prefix:{prefix}", "weights", filename,
                 licence, torch_path=f"hub/checkpoints/{filename}",
                 note="torchvision pins the sha256 prefix in the file name (torch.hub check_hash)")


def _tv_mnist(name: str, filename: str, md5: str) -> Entry:
    return Entry(name, f"{TV_MNIST}{filename}", f"md5:{md5}", "dataset", filename, MNIST_LICENCE,
                 torchvision_path=f"MNIST/raw/{filename}")


MNIST_LICENCE = ("CC BY-SA 3.0; Y. LeCun, C. Cortes, C. J. C. Burges, "
                 "The MNIST database of handwritten digits")
QMNIST = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
QMNIST_LICENCE = "BSD; C. Yadav, L. Bottou, Cold Case: The Lost MNIST Digits, NeurIPS 2019"
CIFAR10_1 = "https://github.com/modestyachts/CIFAR-10.1/raw/master/datasets/"
CIFAR10_1_LICENCE = ("MIT; B. Recht, R. Roelofs, L. Schmidt, V. Shankar, Do CIFAR-10 Classifiers "
                     "Generalize to CIFAR-10?, 2018")
IMAGENET = "trained on ImageNet (ILSVRC 2012), whose images are for non-commercial research use"

_ENTRIES = [
    Entry("mnist", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
          "sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
          "dataset", "mnist.npz", MNIST_LICENCE, keras_path="datasets/mnist.npz"),
    Entry("cifar10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
          "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
          "dataset", "cifar-10-python.tar.gz",
          "A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009",
          keras_path="datasets/cifar-10-batches-py-target_archive",
          note="keras.datasets.cifar10 extracts the archive it finds at keras_path"),
    _tv_mnist("torchvision_mnist_train_images", "train-images-idx3-ubyte.gz",
              "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    _tv_mnist("torchvision_mnist_train_labels", "train-labels-idx1-ubyte.gz",
              "d53e105ee54ea40749a09fcbcd1e9432"),
    _tv_mnist("torchvision_mnist_test_images", "t10k-images-idx3-ubyte.gz",
              "9fb629c4189551a2d022fa330f9573f3"),
    _tv_mnist("torchvision_mnist_test_labels", "t10k-labels-idx1-ubyte.gz",
              "ec29112dd5afa0611ce80d1b7f02629c"),
    # Private held-out sets of the full profile: images that the official downloads students use
    # do not contain, so training on the test split or a label lookup gains nothing.
    Entry("qmnist_test_images", f"{QMNIST}qmnist-test-images-idx3-ubyte.gz", "md5:1394631089c404de565df7b7aeaf9412",
          "dataset", "qmnist-test-images-idx3-ubyte.gz", QMNIST_LICENCE, extra={"role": "heldout:mnist"},
          note="rows 10,000-59,999 are the 50,000 digits MNIST lost (not in mnist.npz); md5 as torchvision pins it"),
    Entry("qmnist_test_labels", f"{QMNIST}qmnist-test-labels-idx2-int.gz", "md5:5b5b05890a5e13444e108efe57b788aa",
          "dataset", "qmnist-test-labels-idx2-int.gz", QMNIST_LICENCE, extra={"role": "heldout:mnist"},
          note="int32 rows of 8 columns; column 0 is the digit"),
    Entry("cifar10_1_v6_data", f"{CIFAR10_1}cifar10.1_v6_data.npy",
          "sha256:2997188e5816f5bd545dc77771b6227828c28146049fcecf3fa10775474cacc6",
          "dataset", "cifar10.1_v6_data.npy", CIFAR10_1_LICENCE, extra={"role": "heldout:cifar10", "bytes": "6144128"},
          note="2,000 new test images sampled like CIFAR-10's (uint8, 32x32x3); sha256 as TFDS pins it"),
    Entry("cifar10_1_v6_labels", f"{CIFAR10_1}cifar10.1_v6_labels.npy",
          "sha256:ae40beda001693674edc94d925ee8268cfe68905f8f9aff800c8dcdfcd6c9448",
          "dataset", "cifar10.1_v6_labels.npy", CIFAR10_1_LICENCE, extra={"role": "heldout:cifar10", "bytes": "8128"}),
    Entry("flowers",
          "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
          None, "dataset", "flower_photos.tgz",
          "TensorFlow flower photos (Flickr images, CC BY 2.0; see LICENSE.txt in the archive)",
          keras_path="datasets/flower_photos_archive",
          note="no upstream hash; pin it: python -m autograder fetch flowers --pin "
               "(keras: get_file('flower_photos', origin=..., untar=True))"),
    Entry("chest_xray",
          "https://data.mendeley.com/public-files/datasets/rscbjbr9sj/files/"
          "f12eaf6d-6023-432f-acc9-80c9d7393433/file_downloaded",
          None, "dataset", "ChestXRay2017.zip",
          "CC BY 4.0; D. Kermany, K. Zhang, M. Goldbaum, Labeled Optical Coherence Tomography "
          "(OCT) and Chest X-Ray Images for Classification, Mendeley Data v2, "
          "doi:10.17632/rscbjbr9sj.2",
          note="no upstream hash; pin it: python -m autograder fetch chest_xray --pin"),
    Entry("xray_triage",
          "https://www.kaggle.com/api/v1/datasets/download/tawsifurrahman/covid19-radiography-database",
          None, "dataset", "covid19-radiography-database.zip",
          "Kaggle licence terms of the COVID-19 Radiography Database (cite M.E.H. Chowdhury et al., IEEE "
          "Access 2020, doi:10.1109/ACCESS.2020.3010287, and T. Rahman et al., Comput. Biol. Med. 2021, "
          "doi:10.1016/j.compbiomed.2021.104319)",
          note="no upstream hash; pin it: python -m autograder fetch xray_triage --pin (Kaggle may ask to "
               "sign in: then download the zip in a browser and place it in the cache as this file name)"),
    _keras_weights("vgg16", "vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels",
                   "64373286793e3c8b2b4e3219cbf3544b",
                   f"CC BY 4.0; K. Simonyan, A. Zisserman, 2014; {IMAGENET}"),
    _keras_weights("vgg16_notop", "vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop",
                   "6d6bbae143d832006294945121d1f1fc",
                   f"CC BY 4.0; K. Simonyan, A. Zisserman, 2014; {IMAGENET}"),
    _keras_weights("inception_v3", "inception_v3",
                   "inception_v3_weights_tf_dim_ordering_tf_kernels",
                   "9a0d58056eeedaa3f26cb7ebd46da564",
                   f"Apache 2.0; C. Szegedy et al., 2015; {IMAGENET}"),
    _keras_weights("inception_v3_notop", "inception_v3",
                   "inception_v3_weights_tf_dim_ordering_tf_kernels_notop",
                   "bcbd6486424b2319ff4ef7d526e38f63",
                   f"Apache 2.0; C. Szegedy et al., 2015; {IMAGENET}"),
    _keras_weights("resnet50", "resnet", "resnet50_weights_tf_dim_ordering_tf_kernels",
                   "2cb95161c43110f7111970584f804107",
                   f"MIT; K. He et al., 2015; {IMAGENET}"),
    _keras_weights("resnet50_notop", "resnet", "resnet50_weights_tf_dim_ordering_tf_kernels_notop",
                   "4d473c1dd8becc155b73f8504c6f6626",
                   f"MIT; K. He et al., 2015; {IMAGENET}"),
    _torch_weights("torchvision_alexnet", "alexnet-owt-7be5be79.pth",
                   f"BSD-3-Clause (torchvision); A. Krizhevsky, 2014; {IMAGENET}"),
    _torch_weights("torchvision_vgg16", "vgg16-397923af.pth",
                   f"BSD-3-Clause (torchvision); K. Simonyan, A. Zisserman, 2014; {IMAGENET}"),
    _torch_weights("torchvision_googlenet", "googlenet-1378be20.pth",
                   f"BSD-3-Clause (torchvision); C. Szegedy et al., 2014; {IMAGENET}"),
    _torch_weights("torchvision_resnet50", "resnet50-0676ba61.pth",
                   f"BSD-3-Clause (torchvision); K. He et al., 2015 (IMAGENET1K_V1); {IMAGENET}"),
    _torch_weights("torchvision_resnet50_v2", "resnet50-11ad3fa6.pth",
                   f"BSD-3-Clause (torchvision); K. He et al., 2015 (IMAGENET1K_V2); {IMAGENET}"),
]

REGISTRY: dict[str, Entry] = {e.name: e for e in _ENTRIES}


class UnknownEntryError(KeyError):
    """A name that is not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0])


def entry(name: str, registry: dict[str, Entry] | None = None) -> Entry:
    """The registry entry ``name``; the error lists what exists."""
    reg = REGISTRY if registry is None else registry
    try:
        return reg[name]
    except KeyError:
        raise UnknownEntryError(f"no data entry {name!r}; known: {', '.join(sorted(reg))}") from None


def names(kind: str | None = None, profile: str | None = None) -> list[str]:
    """Entry names, optionally filtered by kind and profile."""
    return [e.name for e in REGISTRY.values()
            if (kind is None or e.kind == kind) and (profile is None or profile in e.profiles)]
