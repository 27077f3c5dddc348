"""What an LMS download holds, read the same way for either LMS: one ``Upload`` per submitted file.

A download is a zip or the folder it was unpacked into; zips are unpacked only inside their target
folder (no ``..`` or absolute paths) and within a size cap.
"""
from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass, field
from typing import Iterable
from pathlib import Path, PurePosixPath

from .. import archives
from . import LmsError



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
    """Extract ``zip_path`` into ``into`` safely (:func:`autograder.archives.unpack`); return ``into``."""
    try:
        return archives.unpack(zip_path, into, keep_times=True)
    except archives.ArchiveError as exc:
        raise LmsError(str(exc)) from None


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


def read_table(path: Path, what: str = "the file") -> list[list[str]]:
    """The rows of a CSV an LMS wrote (a byte-order mark is dropped); a clear error names the file."""
    try:
        return list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"), newline="")))
    except FileNotFoundError:
        raise LmsError(f"{path}: {what} does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LmsError(f"{path}: cannot read {what} as CSV ({exc})") from None


def write_table(rows: Iterable[list[str]], to: Path) -> None:
    """Write ``rows`` as the CSV an LMS imports (UTF-8, its folder made)."""
    to.parent.mkdir(parents=True, exist_ok=True)
    with open(to, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
