"""Moodle: the names in an assignment's "Download all submissions" zip, and its grading worksheet.

Download names (``mod/assign`` ``download_submissions``): each student's files sit under
``<Full name>_<participant id>_assignsubmission_<plugin>_/`` with their own names and subfolders
("Download submissions in folders", the default since Moodle 3.1), or, without folders, are named
``<Full name>_<participant id>_assignsubmission_<plugin>_<file name>``. Underscores in the name
become spaces; with anonymous submissions the name is ``Participant``; online text is
``onlinetext.html`` of the ``onlinetext`` plugin. The zip holds each student's latest attempt only.

Grading worksheet (the offline-grading feedback plugin, ``assignfeedback_offline``: "Download
grading worksheet" / "Upload grading worksheet"): a CSV with ``Identifier`` ("Participant <id>", the
same participant id as in the download), ``Full name``, the identity fields shown (``Email
address``), ``Status`` ("Submitted for grading - 2 days 3 hours late - Graded" for a late
submission), ``Grade``, ``Maximum Grade``, ``Grade can be changed``, ``Last modified (submission)``,
the submission plugins' columns, ``Last modified (grade)`` and ``Feedback comments``. Moodle imports
``Grade`` by ``Identifier``, skips empty grades, grades above ``Maximum Grade`` and rows whose grade
changed in Moodle after ``Last modified (grade)`` (unless told to ignore that), so the worksheet
downloaded just before is the best template for the upload.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import LmsError
from .canvas import grade_text
from .files import Listing, Upload, files_under, read_table, write_table
from .roster import Roster, Student, moodle_name_key

PARTICIPANT = "Participant "
WORKSHEET_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                     "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                     "Feedback comments"]
_FOLDER = re.compile(r"^(?P<name>.*)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<rest>.*)$")
_LATE = re.compile(r"\blate\b", re.IGNORECASE)


@dataclass(frozen=True)
class WorksheetRow:
    participant: str
    full_name: str
    email: str
    status: str
    late: bool
    line: int


def parse_path(rel: PurePosixPath) -> tuple[str, str, PurePosixPath] | None:
    """(full name, participant id, path inside the submission) of one download entry, or None."""
    m = _FOLDER.match(rel.parts[0])
    if not m:
        return None
    if m["rest"]:                                   # no folders: the file name follows the prefix
        if len(rel.parts) > 1:
            return None
        inner = PurePosixPath(m["rest"])
    elif len(rel.parts) > 1:                        # "..._assignsubmission_file_/" folder
        inner = PurePosixPath(*rel.parts[1:])
    else:
        return None
    if m["plugin"] == "onlinetext":
        inner = PurePosixPath("online_text") / inner
    return m["name"].strip(), m["pid"], inner


def read_worksheet(path: Path) -> tuple[list[str], list[dict[str, str]], dict[str, WorksheetRow]]:
    """Header, rows and ``participant id -> row`` of a Moodle grading worksheet."""
    path = Path(path)
    table = read_table(path, "the grading worksheet")
    if not table or "Identifier" not in table[0] or "Grade" not in table[0]:
        raise LmsError(f"{path}: not a Moodle grading worksheet (needs the columns Identifier and Grade; "
                       f"the header is {', '.join(table[0]) if table else 'empty'})")
    header = table[0]
    rows, by_id = [], {}
    for line, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(header, values + [""] * (len(header) - len(values))))
        ident = row["Identifier"].strip()
        if not (ident.startswith(PARTICIPANT) and ident[len(PARTICIPANT):].isdigit()):
            raise LmsError(f"{path}, line {line}: Identifier {ident!r} is not 'Participant <number>'")
        pid = ident[len(PARTICIPANT):]
        if pid in by_id:
            raise LmsError(f"{path}, line {line}: {ident} is also on line {by_id[pid].line}")
        status = row.get("Status", "")
        by_id[pid] = WorksheetRow(pid, row.get("Full name", "").strip(), row.get("Email address", "").strip(),
                                  status, bool(_LATE.search(status)), line)
        rows.append(row)
    return header, rows, by_id


def read_download(root: Path, worksheet: dict[str, WorksheetRow] | None = None) -> Listing:
    """Every file of an unpacked Moodle download as an Upload keyed by participant id; late as the
    worksheet's Status says (unknown without a worksheet)."""
    listing = Listing()
    for rel, path in files_under(root):
        parsed = parse_path(rel)
        if parsed is None:
            listing.unrecognised.append(str(rel))
            continue
        name, pid, inner = parsed
        row = (worksheet or {}).get(pid)
        upload = Upload(key=pid, lms_name=name, inner=inner, source=path, download_name=str(rel),
                        late=row.late if row else None, order=(path.stat().st_mtime, str(inner)))
        listing.uploads.append(upload)
    return listing


def match(pid: str, email: str, full_name: str, roster: Roster, known: dict[str, str]) -> tuple[Student | None, str]:
    """The roster student of a Moodle participant and how it was matched ('' when it was not)."""
    student = roster.find("moodle_participant_id", pid)
    if student:
        return student, "moodle_participant_id"
    if pid in known:
        found = next((s for s in roster if s.student_id == known[pid]), None)
        if found:
            return found, "intake"
    student = roster.find("email", email)
    if student:
        return student, "email"
    if full_name and full_name != PARTICIPANT.strip():
        named = [s for s in roster.by_name(moodle_name_key(full_name), moodle_name_key)
                 if not s.moodle_participant_id]
        if len(named) == 1:
            return named[0], "name"
    return None, ""


def write_import(grades: dict[str, float], roster: Roster, to: Path, *, points: float,
                 template: Path | None = None, known: dict[str, str] | None = None) -> tuple[set[str], list[str]]:
    """Write a grading worksheet for Moodle's "Upload grading worksheet" into ``to``.

    With ``template`` (the worksheet downloaded from Moodle) every row and column is kept and
    ``Grade`` filled for the students in ``grades``; other rows keep theirs. Without it, one row per
    graded roster student with a participant id (roster column or ``known``: participant id ->
    student id, from the intake). Returns the student ids written with a grade and the mismatches
    to report.
    """
    known = known or {}
    problems: list[str] = []
    written: set[str] = set()
    if template is None:
        ids = {sid: pid for pid, sid in known.items()}
        rows = [WORKSHEET_COLUMNS]
        for student in roster:
            if student.student_id not in grades:
                continue
            pid = student.moodle_participant_id or ids.get(student.student_id, "")
            if not pid:
                problems.append(f"{student.student_id}: no Moodle participant id (roster column "
                                "moodle_participant_id, or a Moodle intake), so Moodle cannot match the row; left out")
                continue
            rows.append([PARTICIPANT + pid, student.name, student.email, "", grade_text(grades[student.student_id]),
                         grade_text(points), "Yes", "", "", ""])
            written.add(student.student_id)
    else:
        header, table, _ = read_worksheet(template)
        rows = [header]
        matched: set[str] = set()
        for row in table:
            pid = row["Identifier"].strip()[len(PARTICIPANT):]
            student, _how = match(pid, row.get("Email address", ""), row.get("Full name", ""), roster, known)
            top = row.get("Maximum Grade", "").strip()
            if student is None:
                problems.append(f"{template.name}: {row['Identifier']} ({row.get('Full name', '')}) is in the Moodle "
                                "worksheet but not in the roster; left as it was")
            else:
                matched.add(student.student_id)
                if student.student_id in grades:
                    if top and abs(float(top.replace(",", ".")) - points) > 1e-6:
                        raise LmsError(f"{template}: Maximum Grade is {top} in Moodle but the grades are out of "
                                       f"{grade_text(points)}; pass --points-possible {top} to scale them, or "
                                       "change the maximum grade in Moodle")
                    row["Grade"] = grade_text(grades[student.student_id])
                    written.add(student.student_id)
                    if row.get("Grade can be changed", "").strip().lower() == "no":
                        problems.append(f"{template.name}: {row['Identifier']} ({student.student_id}): Moodle says "
                                        "the grade cannot be changed (locked or overridden); its import will skip it")
            rows.append([row.get(h, "") for h in header])
        for student in roster:
            if student.student_id not in matched:
                problems.append(f"{student.student_id}: in the roster but not in the Moodle worksheet "
                                f"{template.name}; not exported")
    write_table(rows, to)
    return written, problems
