"""Fill keras' and torchvision's own caches from the verified cache, so idiomatic student
calls (``keras.datasets.mnist.load_data()``, ``VGG16(weights="imagenet")``,
``torchvision.models.alexnet(weights=...)``) run offline. Never touches the network.
"""
from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import cache, manifest
from .fetch import DataIntegrityError, DataMissingError, PinRequiredError, check_hash, expected_hash, fetch


@dataclass
class ProvisionReport:
    """What was placed where, what was missing and what was refused (failed verification)."""

    provisioned: dict[str, Path] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.refused

    def __str__(self) -> str:
        lines = [f"provisioned {n} -> {p}" for n, p in self.provisioned.items()]
        lines += [f"missing {n}: {why}" for n, why in self.missing.items()]
        lines += [f"REFUSED {n}: {why}" for n, why in self.refused.items()]
        return "\n".join(lines) or "nothing to provision"


def _place(src: Path, dest: Path, known: str) -> None:
    """Hardlink (or copy) ``src`` to ``dest`` unless a verified copy is already there."""
    if dest.exists():
        if check_hash(dest, known)[0]:
            return
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".provisioning")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def _provision(names: list[str], target_of, cache_dir, report: ProvisionReport) -> ProvisionReport:
    for name in names:
        entry = manifest.entry(name)
        dest = target_of(entry)
        if dest is None:
            continue
        try:
            src = fetch(name, cache_dir=cache_dir, offline=True)
        except (DataMissingError, PinRequiredError) as exc:
            report.missing[name] = str(exc)
            continue
        except DataIntegrityError as exc:
            report.refused[name] = str(exc)
            continue
        _place(src, dest, expected_hash(name, cache_dir) or "")
        if dest.name.endswith(".gz") and entry.torchvision_path:
            raw = dest.with_suffix("")
            with gzip.open(dest, "rb") as fin, open(raw, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        report.provisioned[name] = dest
    return report


def provision_keras_cache(names: list[str] | None = None, cache_dir=None,
                          keras_home=None) -> ProvisionReport:
    """Place verified files at ``$KERAS_HOME/datasets/...`` and ``$KERAS_HOME/models/...``."""
    home = cache.keras_home(keras_home)
    wanted = names or [n for n, e in manifest.REGISTRY.items() if e.keras_path]
    return _provision(wanted, lambda e: home / e.keras_path if e.keras_path else None,
                      cache_dir, ProvisionReport())


def provision_torch_cache(names: list[str] | None = None, cache_dir=None, torch_home=None,
                          dataset_root=None) -> ProvisionReport:
    """Place verified weights at ``$TORCH_HOME/hub/checkpoints/...`` and, when ``dataset_root``
    is given, torchvision dataset files under it (``MNIST/raw/...``, also decompressed)."""
    home = cache.torch_home(torch_home)
    root = Path(dataset_root).expanduser() if dataset_root is not None else None

    def target(e: manifest.Entry) -> Path | None:
        if e.torch_path:
            return home / e.torch_path
        if e.torchvision_path and root is not None:
            return root / e.torchvision_path
        return None

    wanted = names or [n for n, e in manifest.REGISTRY.items()
                       if e.torch_path or (e.torchvision_path and root is not None)]
    return _provision(wanted, target, cache_dir, ProvisionReport())
