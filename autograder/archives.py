"""Zips from students and from an LMS, unpacked safely: no path leaves the target folder, and a zip
that unpacks to more than a cap (a zip bomb, or a dataset zipped by mistake) is refused before a
byte is written. Python's zipfile never reads past a member's declared size, so the cap holds."""
from __future__ import annotations

import os
import time
import zipfile
import zlib
from pathlib import Path

MAX_UNPACKED_MB = 4096      # a download (or a student's own zip) larger than this unpacked is refused


class ArchiveError(ValueError):
    """A zip that cannot be unpacked safely; the message names the file and the problem."""


def unpack(zip_path: Path, into: Path, *, max_mb: float | None = None, keep_times: bool = False) -> Path:
    """Extract ``zip_path`` into ``into``; return ``into``. ``max_mb``: the cap (default
    :data:`MAX_UNPACKED_MB`); ``keep_times``: each file keeps its time from the zip (which of two
    uploads is later)."""
    max_mb = MAX_UNPACKED_MB if max_mb is None else max_mb
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = zf.infolist()
            if sum(m.file_size for m in members) > max_mb * 2**20:
                raise ArchiveError(f"{zip_path}: unpacks to more than {max_mb:g} MB")
            root = into.resolve()
            for member in members:
                dest = (root / member.filename).resolve()
                if dest != root and root not in dest.parents:
                    raise ArchiveError(f"{zip_path}: unsafe path {member.filename!r} in the zip")
            into.mkdir(parents=True, exist_ok=True)
            for member in members:
                written = Path(zf.extract(member, into))
                if keep_times and not member.is_dir():
                    stamp = time.mktime(member.date_time + (0, 0, -1))
                    os.utime(written, (stamp, stamp))
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError, ValueError) as exc:
        # corrupt, encrypted, an unsupported compression, a file where a folder is expected ...
        raise ArchiveError(f"{zip_path}: not a readable zip ({type(exc).__name__}: {str(exc)[:200]})") from None
    return into
