"""The class roster: the kit's student ids and each student's identities in the LMS.

A UTF-8 CSV with a header row; ``student_id`` is required (it names the student's submissions
folder and every report row), the other columns are optional:

  student_id, name, email, canvas_user_id, sis_user_id, sis_login_id, section, moodle_participant_id

``canvas_user_id`` is the Canvas user id (the ``ID`` column of a Canvas gradebook export and the
number after the name in a Canvas download), ``sis_user_id`` / ``sis_login_id`` Canvas's SIS
columns; ``moodle_participant_id`` the number Moodle puts after the name in its download and in
the grading worksheet's ``Identifier`` ("Participant 1234567"; it is per assignment, so a Moodle
intake can also match by the worksheet's email address or by the full name). A bad row is refused
with the file, line and problem named; so are duplicated ids and unknown columns.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterator

from ..reports.naming import safe_component
from . import LmsError

COLUMNS = ("student_id", "name", "email", "canvas_user_id", "sis_user_id", "sis_login_id", "section",
           "moodle_participant_id")
_UNIQUE = ("student_id", "email", "canvas_user_id", "sis_user_id", "sis_login_id", "moodle_participant_id")
_NUMERIC = ("canvas_user_id", "moodle_participant_id")


class RosterError(LmsError):
    """A roster that cannot be used; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str = ""
    email: str = ""
    canvas_user_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    moodle_participant_id: str = ""
    line: int = 0


def canvas_name_key(name: str) -> str:
    """The name as Canvas writes it into download file names: the sortable name ("Last, First"),
    lower case, without anything but letters, digits and underscores (Canvas's ContentZipper)."""
    name = name.strip()
    if "," not in name and " " in name:             # "First Middle Last" -> "Last, First Middle"
        first, last = name.rsplit(" ", 1)
        name = f"{last}, {first}"
    key = re.sub(r"[^\w]", "", name.lower())
    return re.sub(r"_(\d+)_", r"\1", key)


def moodle_name_key(name: str) -> str:
    """A full name compared the way Moodle shows it ("First Last"), case and spacing ignored."""
    name = name.strip()
    if "," in name:                                 # "Last, First" -> "First Last"
        last, first = (part.strip() for part in name.split(",", 1))
        name = f"{first} {last}"
    return " ".join(name.replace("_", " ").split()).casefold()


class Roster:
    """Students by id, with look-ups by every LMS identity."""

    def __init__(self, students: list[Student], path: Path | str = "roster") -> None:
        self.path = Path(path)
        self.students = list(students)
        self._index = {column: {self._norm(column, getattr(s, column)): s for s in self.students
                                if getattr(s, column)} for column in _UNIQUE}

    @staticmethod
    def _norm(column: str, value: str) -> str:
        return value.strip().casefold() if column == "email" else value.strip()

    def __iter__(self) -> Iterator[Student]:
        return iter(self.students)

    def __len__(self) -> int:
        return len(self.students)

    def has(self, column: str) -> bool:
        """Whether any student has a value in ``column``."""
        return any(getattr(s, column) for s in self.students)

    def find(self, column: str, value: str) -> Student | None:
        return self._index[column].get(self._norm(column, value)) if value else None

    def by_name(self, key: str, key_of: Callable[[str], str]) -> list[Student]:
        """Every student whose ``key_of(name)`` equals ``key`` (more than one: ambiguous)."""
        return [s for s in self.students if s.name and key_of(s.name) == key]

    @classmethod
    def load(cls, path: Path | str) -> "Roster":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise RosterError(f"{path}: the roster file does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RosterError(f"{path}: cannot read the roster ({exc})") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise RosterError(f"{path}: the roster is empty (expected a header row with student_id)") from None
        unknown = [h for h in header if h not in COLUMNS]
        if unknown:
            raise RosterError(f"{path}, line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                              f"a roster has {', '.join(COLUMNS)}")
        if "student_id" not in header:
            raise RosterError(f"{path}, line 1: no student_id column (the header is {', '.join(header)})")
        if len(set(header)) < len(header):
            raise RosterError(f"{path}, line 1: a column appears twice")
        students: list[Student] = []
        seen: dict[tuple[str, str], int] = {}
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise RosterError(f"{path}, line {line}: {len(values)} fields, the header has {len(header)}")
            row = {k: v.strip() for k, v in zip(header, values)}
            sid = row["student_id"]
            if not sid:
                raise RosterError(f"{path}, line {line}: empty student_id")
            if safe_component(sid) != sid:
                raise RosterError(f"{path}, line {line}: student_id {sid!r} cannot name a folder "
                                  "(use letters, digits and . _ @ + -)")
            for column in _NUMERIC:
                if row.get(column) and not row[column].isdigit():
                    raise RosterError(f"{path}, line {line}: {column} {row[column]!r} is not a number")
            if row.get("email") and "@" not in row["email"]:
                raise RosterError(f"{path}, line {line}: email {row['email']!r} is not an address")
            for column in _UNIQUE:
                value = cls._norm(column, row.get(column, ""))
                if not value:
                    continue
                if (column, value) in seen:
                    raise RosterError(f"{path}, line {line}: {column} {row[column]!r} is also on line "
                                      f"{seen[(column, value)]}")
                seen[(column, value)] = line
            known = {f.name for f in fields(Student)}
            students.append(Student(**{k: v for k, v in row.items() if k in known}, line=line))
        if not students:
            raise RosterError(f"{path}: the roster lists no students")
        return cls(students, path)
