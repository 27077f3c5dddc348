"""What an LMS download holds, read the same way for either LMS: one ``Upload`` per submitted file.

A download is a zip or the folder it was unpacked into; zips are unpacked only inside their target
folder (no ``..`` or absolute paths) and within a size cap.
"""
from __future__ import annotations

import os
import shutil
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import LmsError

MAX_UNPACKED_MB = 4096      # a download (or a student's own zip) larger than this unpacked is refused


@dataclass
class Upload:
    """One file a student submitted, as the LMS download names it."""
    key: str                    # the LMS identity: Canvas user id ("anon_..." when anonymous), Moodle participant id
    lms_name: str               # the name the download carries ("smithjohn", "Jane Doe")
    inner: PurePosixPath        # its path in the student's submission, under the student's own file name
    source: Path                # the file on disk
    download_name: str          # the name in the download, for the report
    late: bool | None = None    # None: the download does not say
    order: tuple = ()           # a later upload sorts higher
    notes: list[str] = field(default_factory=list)


@dataclass
class Listing:
    uploads: list[Upload] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)   # names no LMS rule reads: listed, never dropped


def unpack(zip_path: Path, into: Path) -> Path:
    """Extract ``zip_path`` into ``into`` safely; return ``into``."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = zf.infolist()
            if sum(m.file_size for m in members) > MAX_UNPACKED_MB * 2**20:
                raise LmsError(f"{zip_path}: unpacks to more than {MAX_UNPACKED_MB} MB")
            root = into.resolve()
            for member in members:
                dest = (root / member.filename).resolve()
                if dest != root and root not in dest.parents:
                    raise LmsError(f"{zip_path}: unsafe path {member.filename!r} in the zip")
            into.mkdir(parents=True, exist_ok=True)
            for member in members:      # keep each file's time from the zip (which upload is later)
                written = Path(zf.extract(member, into))
                if not member.is_dir():
                    stamp = time.mktime(member.date_time + (0, 0, -1))
                    os.utime(written, (stamp, stamp))
    except LmsError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError, ValueError) as exc:
        # corrupt, encrypted, an unsupported compression, a file where a folder is expected ...
        raise LmsError(f"{zip_path}: not a readable zip ({type(exc).__name__}: {str(exc)[:200]})") from None
    return into


def files_under(root: Path) -> list[tuple[PurePosixPath, Path]]:
    """Every file under ``root`` as (path relative to root, path on disk), sorted; macOS and hidden
    clutter skipped. A download wrapped in one top folder is read from inside it."""
    entries = [e for e in root.iterdir() if not _clutter(e.name)]
    if len(entries) == 1 and entries[0].is_dir() and "_assignsubmission_" not in entries[0].name:
        root = entries[0]
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(_clutter(part) for part in rel.parts):
            found.append((PurePosixPath(*rel.parts), path))
    return found


def _clutter(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX" or name == "Thumbs.db"


def place(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` (parents made); return the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return target
