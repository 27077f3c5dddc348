"""Datasets and weights: a hash-pinned manifest, verified cached downloads, offline provisioning,
and the data each grading profile serves (:mod:`.served`).

The download function is ``autograder.data.fetch.fetch``: the package keeps the name ``fetch``
for its module (``from autograder.data import fetch`` is the module, as the CLI and tests use it).
"""
from .cache import cache_dir
from . import fetch
from .fetch import (DataError, DataIntegrityError, DataMissingError, IncompleteDownloadError,
                    PinRequiredError, status, verify)
from .manifest import REGISTRY, Entry, entry
from .provision import ProvisionReport, provision_keras_cache, provision_torch_cache
from .served import (cifar10, describe, image_folder, mnist, prepare, record_served,
                     write_mnist_idx)

__all__ = [
    "REGISTRY", "DataError", "DataIntegrityError", "DataMissingError", "Entry",
    "IncompleteDownloadError", "PinRequiredError", "ProvisionReport", "cache_dir", "cifar10",
    "describe", "entry", "fetch", "image_folder", "mnist", "prepare", "provision_keras_cache",
    "provision_torch_cache", "record_served", "status", "verify", "write_mnist_idx",
]
