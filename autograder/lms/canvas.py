"""Canvas: the names in its "Download Submissions" zip, and its gradebook import CSV.

Download names (Canvas's ``ContentZipper``, canvas-lms ``lib/content_zipper.rb``): each uploaded
file is ``<name>[_LATE]_<user id>_<attachment id>_<file name>``, where ``<name>`` is the student's
sortable name in lower case with everything but letters, digits and ``_`` removed ("smithjohn"),
``LATE`` marks a submission Canvas counts as late, and an anonymously graded assignment has
``anon_<anonymous id>`` in place of the name and user id. Text and URL submissions are
``..._<user id>_text.html`` / ``_link.html``. The zip holds each student's current submission; a
file uploaded again under the same name carries Canvas's re-upload suffix (``hw-1.ipynb``).
Attachment ids grow with every upload, so where one student's download holds two versions of a
file the higher id is the later upload.

Gradebook import (Canvas guides, "How do I import grades in the Gradebook?", and the format of
Canvas's own gradebook export): a CSV with ``Student, ID, SIS User ID, SIS Login ID, Section``
and one column per assignment named ``<Assignment name> (<assignment id>)``; the second row,
``Points Possible``, gives each assignment's maximum. Students are matched by ``ID`` (the Canvas
user id) or the SIS columns. Read-only columns of an export (totals, other assignments) may be left
out; a student row left out keeps its grade.
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from . import LmsError
from .files import Listing, Upload, files_under, read_table, write_table
from .roster import Roster, Student

ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"

_UPLOAD = re.compile(r"^(?:(?P<name>.*?)_)??(?:(?P<late>LATE)_)?(?P<uid>\d+|anon_[A-Za-z0-9]+)"
                     r"_(?P<att>\d+)_(?P<file>.+)$")
_ONLINE = re.compile(r"^(?:(?P<name>.*?)_)??(?:(?P<late>LATE)_)?(?P<uid>\d+|anon_[A-Za-z0-9]+)"
                     r"_(?P<kind>text|link)\.html$")
_REUPLOAD = re.compile(r"^(?P<stem>.+)-(?P<n>\d{1,3})(?P<ext>\.[^.]+)?$")


def split_reupload(filename: str) -> tuple[str, int]:
    """``("hw.ipynb", 2)`` for Canvas's re-upload name ``hw-2.ipynb``; ``(filename, 0)`` otherwise."""
    m = _REUPLOAD.match(filename)
    if not m:
        return filename, 0
    return m["stem"] + (m["ext"] or ""), int(m["n"])


def parse_name(name: str, *, strip: bool = True) -> dict | None:
    """The parts of one download file name, or None when it is not a Canvas submission name
    (``strip``: a trailing ``-N`` read as Canvas's re-upload suffix)."""
    m = _UPLOAD.match(name)
    if m:
        original, again = split_reupload(m["file"]) if strip else (m["file"], 0)
        return {"name": m["name"] or "", "late": bool(m["late"]), "user": m["uid"],
                "attachment": int(m["att"]), "file": original, "reupload": again}
    m = _ONLINE.match(name)
    if m:
        return {"name": m["name"] or "", "late": bool(m["late"]), "user": m["uid"], "attachment": 0,
                "file": f"online_{m['kind']}.html", "reupload": 0}
    return None


def read_download(root: Path) -> Listing:
    """Every file of an unpacked Canvas download as an Upload keyed by the Canvas user id."""
    listing = Listing()
    for rel, path in files_under(root):
        parts = parse_name(rel.name)
        if parts is None:
            listing.unrecognised.append(str(rel))
            continue
        upload = Upload(key=parts["user"], lms_name=parts["name"], inner=PurePosixPath(parts["file"]),
                        source=path, download_name=str(rel), late=parts["late"],
                        order=(parts["attachment"], parts["reupload"]))
        listing.uploads.append(upload)
    # "hw-1.ipynb" is a re-upload of "hw.ipynb" only next to it; alone ("week-3.ipynb", "fig-2.png")
    # it is the student's own name
    seen = {(u.key, str(u.inner)) for u in listing.uploads if not u.order[1]}
    for upload in listing.uploads:
        again = upload.order[1]
        if not again:
            continue
        if (upload.key, str(upload.inner)) in seen:
            upload.notes.append(f"{PurePosixPath(upload.download_name).name}: uploaded again "
                                f"(Canvas's re-upload suffix -{again})")
        else:
            upload.inner = PurePosixPath(parse_name(PurePosixPath(upload.download_name).name, strip=False)["file"])
            upload.order = (upload.order[0], 0)
    return listing


def grade_text(value: float) -> str:
    """A grade as the LMS reads it: at most 2 decimals, no trailing zeros."""
    return f"{round(value, 2):.2f}".rstrip("0").rstrip(".")


def assignment_column(header: list[str], wanted: str | None, path: Path) -> str:
    """The template's column for this assignment: ``wanted`` by exact name or by its ``(id)``."""
    candidates = [h for h in header[len(ID_COLUMNS):] if re.search(r"\(\d+\)\s*$", h)]
    if wanted:
        for h in header:
            if h == wanted or (wanted.isdigit() and h.rstrip().endswith(f"({wanted})")):
                return h
        raise LmsError(f"{path}: no column {wanted!r}; the assignment columns are "
                       f"{', '.join(map(repr, candidates)) or 'none'}")
    if len(candidates) == 1:
        return candidates[0]
    raise LmsError(f"{path}: {len(candidates)} assignment columns; choose one with --column "
                   f"(name or assignment id): {', '.join(map(repr, candidates)) or 'none'}")


def match_row(row: dict[str, str], roster: Roster) -> Student | None:
    """The roster student of one gradebook row: by Canvas user id, then SIS User ID, then SIS Login ID."""
    return (roster.find("canvas_user_id", row.get("ID", "")) or roster.find("sis_user_id", row.get("SIS User ID", ""))
            or roster.find("sis_login_id", row.get("SIS Login ID", "")))


def write_import(grades: dict[str, float], roster: Roster, to: Path, *, points: float,
                 column: str | None = None, template: Path | None = None) -> tuple[set[str], list[str]]:
    """Write the Canvas import CSV of ``grades`` (student id -> points) into ``to``.

    With ``template`` (a Canvas gradebook export) its student rows are kept in its order, this
    assignment's cells filled for the students in ``grades`` and left as they were for the others.
    Without it, one row per graded roster student that Canvas can match (a Canvas user id or SIS
    id). Returns the student ids written with a grade, and the mismatches to report: template
    students not in the roster, roster students not in the template or without any Canvas identity.
    """
    problems: list[str] = []
    written: set[str] = set()
    if template is None:
        if column and column.strip().isdigit():
            raise LmsError(f"--column {column}: without --template, name the column as Canvas does, "
                           f"'<assignment name> ({column.strip()})', or Canvas adds a new assignment called {column!r}")
        name = column or "Assignment"
        rows = [ID_COLUMNS + [name], [f"    {POINTS_POSSIBLE}", "", "", "", "", grade_text(points)]]
        for student in roster:
            if student.student_id not in grades:
                continue
            if not (student.canvas_user_id or student.sis_user_id or student.sis_login_id):
                problems.append(f"{student.student_id}: no canvas_user_id, sis_user_id or sis_login_id in the "
                                "roster, so Canvas cannot match the row; left out")
                continue
            rows.append([student.name or student.student_id, student.canvas_user_id, student.sis_user_id,
                         student.sis_login_id, student.section, grade_text(grades[student.student_id])])
            written.add(student.student_id)
    else:
        table = read_table(template)
        if not table or table[0][:2] != ID_COLUMNS[:2]:
            raise LmsError(f"{template}: not a Canvas gradebook export (the header starts "
                           f"{', '.join(table[0][:5]) if table else 'empty'}; expected {', '.join(ID_COLUMNS)})")
        header = table[0]
        name = assignment_column(header, column, template)
        keep = [h for h in ID_COLUMNS if h in header] + [name]
        rows = [keep]
        matched: set[str] = set()
        for i, values in enumerate(table[1:], start=2):
            cells = dict(zip(header, values + [""] * (len(header) - len(values))))
            student_cell = cells.get("Student", "").strip()
            if student_cell == POINTS_POSSIBLE:
                listed = cells.get(name, "").strip()
                if listed and abs(_number(listed, template, i) - points) > 1e-6:
                    raise LmsError(f"{template}, line {i}: {name!r} is out of {listed} points in Canvas but the "
                                   f"grades are out of {grade_text(points)}; pass --points-possible {listed} to "
                                   "scale them, or change the assignment's points in Canvas")
                rows.append([cells.get(h, "") for h in keep])
                continue
            if not any(v.strip() for v in values) or not cells.get("ID", "").strip():
                rows.append([cells.get(h, "") for h in keep])     # other non-student rows as they were
                continue
            student = match_row(cells, roster)
            if student is None:
                problems.append(f"{template.name}, line {i}: {student_cell or cells.get('ID')} (Canvas ID "
                                f"{cells.get('ID')}) is in the Canvas gradebook but not in the roster; left as it was")
            elif student.student_id in grades:
                cells[name] = grade_text(grades[student.student_id])
                written.add(student.student_id)
            if student is not None:
                matched.add(student.student_id)
            rows.append([cells.get(h, "") for h in keep])
        for student in roster:
            if student.student_id not in matched:
                problems.append(f"{student.student_id}: in the roster but not in the Canvas gradebook "
                                f"{template.name}; not exported")
    write_table(rows, to)
    return written, problems


def _number(text: str, path: Path, line: int) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise LmsError(f"{path}, line {line}: {text!r} is not a number of points") from None
