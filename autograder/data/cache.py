"""Where downloaded and served data live.

The cache directory is ``$AUTOGRADER_CACHE`` or ``~/.cache/cnn-autograder``. An instructor
fills it once with ``python -m autograder fetch NAME`` on a machine with internet; a grading
machine then runs offline from a copy of it.
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "AUTOGRADER_CACHE"
OFFLINE_ENV = "AUTOGRADER_OFFLINE"
MIRROR_ENV = "AUTOGRADER_MIRROR"
DEFAULT_CACHE = Path("~/.cache/cnn-autograder")
PINS_FILE = "pins.json"


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory (created if missing): ``override``, ``$AUTOGRADER_CACHE`` or the default."""
    raw = override if override is not None else os.environ.get(CACHE_ENV) or DEFAULT_CACHE
    path = Path(raw).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(filename: str, override: str | os.PathLike[str] | None = None) -> Path:
    """Path of a downloaded file in the cache."""
    return cache_dir(override) / filename


def part_path(filename: str, override: str | os.PathLike[str] | None = None) -> Path:
    """Path of the partial (resumable) download of ``filename``."""
    return cache_dir(override) / f"{filename}.part"


def pins_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The local pins file: sha256 recorded for entries without an upstream hash."""
    return cache_dir(override) / PINS_FILE


def served_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where generated stand-ins and extracted archives are written."""
    path = cache_dir(override) / "served"
    path.mkdir(parents=True, exist_ok=True)
    return path


def offline(flag: bool | None = None) -> bool:
    """Offline mode: ``flag`` if given, else ``$AUTOGRADER_OFFLINE`` is set to a true value."""
    if flag is not None:
        return flag
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def keras_home(override: str | os.PathLike[str] | None = None) -> Path:
    """Keras' cache root, as keras resolves it: ``$KERAS_HOME`` or ``~/.keras``."""
    raw = override if override is not None else os.environ.get("KERAS_HOME") or "~/.keras"
    return Path(raw).expanduser()


def torch_home(override: str | os.PathLike[str] | None = None) -> Path:
    """torch.hub's root, as torch resolves it: ``$TORCH_HOME`` or ``$XDG_CACHE_HOME/torch``."""
    if override is not None:
        return Path(override).expanduser()
    if os.environ.get("TORCH_HOME"):
        return Path(os.environ["TORCH_HOME"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(xdg).expanduser() / "torch"
