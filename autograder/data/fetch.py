"""Verified, resumable, offline-capable downloads of registry entries (pooch underneath).

``fetch(name)`` returns the path of a file in the cache whose hash matched. A file is
downloaded into ``NAME.part`` (resumed with an HTTP Range request when a ``.part`` is left
over), checked against its hash, and only then moved into place by pooch. ``$AUTOGRADER_MIRROR``
replaces every entry's URL by ``MIRROR/<filename>``.
"""
from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

from . import cache, manifest

CHUNK = 1 << 13   # small chunks: a broken transfer keeps nearly all it received


class DataError(RuntimeError):
    """Base class of data errors."""


class DataIntegrityError(DataError):
    """A file's hash does not match the expected one; it is never used."""


class DataMissingError(DataError):
    """A file is not in the cache and may not be downloaded (offline mode)."""


class PinRequiredError(DataError):
    """An entry without an upstream hash was fetched without ``pin=True``."""


class IncompleteDownloadError(DataError):
    """The server sent fewer bytes than announced; the ``.part`` file is kept for resuming."""


def file_hash(path: str | os.PathLike[str], alg: str = "sha256") -> str:
    import pooch

    return pooch.file_hash(str(path), alg=alg)


def _split(known_hash: str) -> tuple[str, str]:
    alg, _, value = known_hash.partition(":")
    if not value:  # pooch default: a bare hash is sha256
        return "sha256", alg.lower()
    return alg.lower(), value.lower()


def check_hash(path: str | os.PathLike[str], known_hash: str) -> tuple[bool, str]:
    """Whether ``path`` matches ``known_hash``; also the actual hash in the same notation."""
    alg, value = _split(known_hash)
    if alg == "sha256-prefix":
        actual = file_hash(path, "sha256")
        return actual.startswith(value), f"sha256:{actual}"
    actual = file_hash(path, alg)
    return actual == value, f"{alg}:{actual}"


def verify(path: str | os.PathLike[str], known_hash: str, *, label: str | None = None) -> Path:
    """Return ``path`` if it matches ``known_hash``, else raise :class:`DataIntegrityError`."""
    ok, actual = check_hash(path, known_hash)
    if not ok:
        raise DataIntegrityError(
            f"{label or Path(path).name}: {path} failed verification: expected {known_hash}, "
            f"got {actual} (corrupt or partial file; delete it and fetch again)")
    return Path(path)


def url_for(entry: manifest.Entry) -> str:
    """The entry's URL, or ``$AUTOGRADER_MIRROR/<filename>`` when a mirror is set."""
    mirror = os.environ.get(cache.MIRROR_ENV, "").strip()
    if mirror:
        return f"{mirror.rstrip('/')}/{entry.filename}"
    return entry.url


def read_pins(cache_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    path = cache.pins_path(cache_dir)
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def _write_pin(name: str, known_hash: str, cache_dir: str | os.PathLike[str] | None) -> None:
    pins = read_pins(cache_dir)
    pins[name] = known_hash
    path = cache.pins_path(cache_dir)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def expected_hash(name: str, cache_dir: str | os.PathLike[str] | None = None) -> str | None:
    """The upstream hash of ``name``, else its local pin, else None."""
    entry = manifest.entry(name)
    return entry.known_hash or read_pins(cache_dir).get(name)


def fetch_hint(name: str) -> str:
    return (f"run `python -m autograder fetch {name}` on a machine with internet and copy the "
            f"cache directory (${cache.CACHE_ENV}, default {cache.DEFAULT_CACHE}) to this machine")


class ResumableDownloader:
    """A pooch downloader that streams into a persistent ``.part`` file and resumes it.

    After the transfer the ``.part`` is checked against ``known_hash`` (a bad one is deleted)
    and handed to pooch, which moves it into place.
    """

    def __init__(self, part: Path, known_hash: str | None, label: str, *,
                 progress: bool = True, timeout: float = 30.0) -> None:
        self.part, self.known_hash, self.label = part, known_hash, label
        self.progress, self.timeout = progress, timeout
        self.resumed_from = 0

    def _bar(self, total: int | None, initial: int):
        if not self.progress:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=self.label,
                    leave=True)

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False):
        import requests

        if check_only:
            with requests.head(url, allow_redirects=True, timeout=self.timeout) as r:
                return r.status_code == 200
        start = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={start}-"} if start else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout,
                          allow_redirects=True) as r:
            if r.status_code == 416 and start:  # the .part already holds everything
                total = start
            else:
                r.raise_for_status()
                if start and r.status_code != 206:  # server ignored the Range: start over
                    start = 0
                self.resumed_from = start
                length = r.headers.get("Content-Length")
                total = start + int(length) if length is not None else None
                bar = self._bar(total, start)
                try:
                    with open(self.part, "ab" if start else "wb") as fh:
                        for chunk in r.iter_content(CHUNK):
                            fh.write(chunk)
                            if bar is not None:
                                bar.update(len(chunk))
                except requests.exceptions.RequestException as exc:
                    raise IncompleteDownloadError(
                        f"{self.label}: download from {url} broke off after "
                        f"{self.part.stat().st_size} bytes ({exc}); fetch again to resume "
                        f"{self.part}") from exc
                finally:
                    if bar is not None:
                        bar.close()
        size = self.part.stat().st_size
        if total is not None and size != total:
            raise IncompleteDownloadError(
                f"{self.label}: got {size} of {total} bytes from {url}; fetch again to resume "
                f"{self.part}")
        if self.known_hash is not None:
            ok, actual = check_hash(self.part, self.known_hash)
            if not ok:
                self.part.unlink()
                raise DataIntegrityError(
                    f"{self.label}: download from {url} failed verification: expected "
                    f"{self.known_hash}, got {actual}; the file was discarded")
        out = output_file if isinstance(output_file, (str, os.PathLike)) else output_file.name
        os.replace(self.part, out)


def fetch(name: str, *, cache_dir: str | os.PathLike[str] | None = None, pin: bool = False,
          progress: bool = True, offline: bool | None = None) -> Path:
    """Path of the verified cached file of registry entry ``name``, downloading it if needed.

    Offline (``offline=True`` or ``$AUTOGRADER_OFFLINE=1``) the network is never touched: a
    missing file raises :class:`DataMissingError`. A cached file whose hash does not match
    raises :class:`DataIntegrityError` offline; online it is downloaded again. Entries without
    an upstream hash need ``pin=True`` once, which records the sha256 in ``pins.json``.
    """
    entry = manifest.entry(name)
    known = expected_hash(name, cache_dir)
    if known is None and not pin:
        raise PinRequiredError(
            f"{name}: {entry.url} has no upstream hash ({entry.note or 'nothing pins it'}); "
            f"fetch it once with pin=True (`python -m autograder fetch {name} --pin`) to record "
            f"its sha256 in {cache.pins_path(cache_dir)}")
    path = cache.file_path(entry.filename, cache_dir)
    is_offline = cache.offline(offline)
    if path.exists():
        if known is None:  # pin=True on an unpinned file already present: pin what is there
            known = f"sha256:{file_hash(path)}"
            _write_pin(name, known, cache_dir)
            return path
        ok, actual = check_hash(path, known)
        if ok:
            return path
        if is_offline:
            verify(path, known, label=name)
        warnings.warn(f"{name}: cached {path} does not match {known} (got {actual}); "
                      "downloading it again", stacklevel=2)
        path.unlink()
    if is_offline:
        raise DataMissingError(f"{name}: {entry.filename} is not in the cache "
                               f"{cache.cache_dir(cache_dir)} and this machine is offline; "
                               f"{fetch_hint(name)}")
    _download(entry, path, known, progress, cache_dir)
    if known is None:
        _write_pin(name, f"sha256:{file_hash(path)}", cache_dir)
    return path


def _download(entry: manifest.Entry, path: Path, known: str | None, progress: bool,
              cache_dir: str | os.PathLike[str] | None) -> None:
    import pooch

    downloader = ResumableDownloader(cache.part_path(entry.filename, cache_dir), known,
                                     entry.name, progress=progress)
    pooch_hash = known if known and not known.startswith("sha256-prefix:") else None
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch logs a line per download and nags about hashes
    try:
        pooch.retrieve(url_for(entry), known_hash=pooch_hash, fname=path.name,
                       path=path.parent, downloader=downloader)
    finally:
        logger.setLevel(level)


def status(name: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """``"ok"``, ``"missing"``, ``"corrupt"`` or ``"unpinned"`` for a cached entry (no network)."""
    entry = manifest.entry(name)
    path = cache.file_path(entry.filename, cache_dir)
    if not path.exists():
        return "missing"
    known = expected_hash(name, cache_dir)
    if known is None:
        return "unpinned"
    return "ok" if check_hash(path, known)[0] else "corrupt"
