"""An LMS download -> the ``<student_id>/`` folders ``grade`` reads, and a report of what was found.

Each file of the download is read by its LMS's naming rules (``canvas``, ``moodle``), its student
looked up in the roster, and copied to ``<out>/<student_id>/`` under the student's own file name;
a zip the student uploaded is unpacked there. Where a student's download holds two versions of one
notebook (the same nbgrader cells) or of one file (the same name), the later upload counts and the
other is kept aside in ``<out>/.superseded/``. Files of submitters the roster does not list go to
``<out>/.unmatched/``; names no rule reads are listed. ``grade`` ignores both folders.

``<out>/intake.csv`` (see ``manifest``) has one row per roster student, unknown submitter and
unreadable name; ``<out>/intake.md`` says the same for a person.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..grading.collect import expected_notebooks, grade_ids, most_similar
from ..reports.naming import md_cell, safe_component
from . import LMS_NAMES, LmsError, canvas, manifest, moodle
from .files import Listing, Upload, place, unpack
from .roster import Roster, Student, canvas_name_key

RELEASE = Path(__file__).resolve().parents[2] / "release"
MARKER = ".intake"           # what says a folder is an intake's own (grade copies intake.csv, not this)

SUPERSEDED, UNMATCHED = ".superseded", ".unmatched"
Worksheet = dict[str, moodle.WorksheetRow] | None


@dataclass
class IntakeResult:
    out: Path
    rows: list[dict[str, str]]

    def count(self, status: str) -> int:
        return sum(r["status"] == status for r in self.rows)

    def summary(self) -> str:
        late = sum(r["status"] == manifest.SUBMITTED and r["late"] == "yes" for r in self.rows)
        superseded = sum(bool(r["superseded"]) for r in self.rows if r["status"] == manifest.SUBMITTED)
        return (f"intake: {self.count(manifest.SUBMITTED)} submitted ({late} late, {superseded} with superseded "
                f"files), {self.count(manifest.MISSING)} roster student(s) without a submission, "
                f"{self.count(manifest.UNKNOWN)} submitter(s) not in the roster, "
                f"{self.count(manifest.UNRECOGNISED)} unrecognised file name(s); see {self.out / 'intake.md'}")


def run(download: Path, lms: str, roster: Roster, out: Path, *, worksheet: Path | None = None) -> IntakeResult:
    """Turn one LMS download (zip or unpacked folder) into per-student folders under ``out``."""
    if lms not in LMS_NAMES:
        raise LmsError(f"--lms {lms!r}: expected one of {', '.join(LMS_NAMES)}")
    if worksheet and lms != "moodle":
        raise LmsError("--worksheet is Moodle's grading worksheet; a Canvas download says late in its names")
    download, out = Path(download), Path(out)
    if not download.exists():
        raise LmsError(f"{download}: the download does not exist")
    sheet = moodle.read_worksheet(worksheet)[2] if worksheet else None    # read before anything is replaced
    _prepare(out, download)
    with tempfile.TemporaryDirectory() as scratch:
        if download.is_file():
            root = unpack(download, Path(scratch) / "download")
        else:
            root = download
        listing = canvas.read_download(root) if lms == "canvas" else moodle.read_download(root, sheet)
        if not listing.uploads and not listing.unrecognised:
            raise LmsError(f"{download}: the download holds no files")
        rows = _place_all(listing, lms, roster, out, sheet)
    manifest.write(rows, out / manifest.NAME)
    (out / "intake.md").write_text(report_markdown(rows, lms=lms, download=download.name, roster=len(roster)),
                                   encoding="utf-8")
    return IntakeResult(out, rows)


def _prepare(out: Path, download: Path) -> None:
    """An empty output folder; a previous intake's folder is replaced, anything else refused."""
    if download.resolve() == out.resolve() or out.resolve() in download.resolve().parents:
        raise LmsError(f"{out}: the output folder must not hold the download")
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file() or (out / "results").exists():
            raise LmsError(f"{out}: exists and is not an earlier intake's folder; choose a new --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("per-student folders written by `intake`; replaced by the next intake into this folder\n")


def _match_canvas(key: str, name: str, roster: Roster) -> tuple[Student | None, str, str]:
    student = roster.find("canvas_user_id", key)
    if student:
        return student, "canvas_user_id", ""
    if key.startswith("anon_"):
        return None, "", "anonymous grading: the download has no Canvas user id"
    named = [s for s in roster.by_name(name, canvas_name_key) if not s.canvas_user_id]
    if len(named) == 1:
        return named[0], "name", ""
    if len(named) > 1:
        return None, "", f"the name matches {len(named)} roster students ({', '.join(s.student_id for s in named)})"
    return None, "", ""


def _match_all(listing: Listing, lms: str, roster: Roster, sheet: Worksheet) -> dict[str, tuple[Student | None, str, str]]:
    """LMS key -> (roster student, matched by, note); one roster student claimed by several keys
    is matched to none of them."""
    found: dict[str, tuple[Student | None, str, str]] = {}
    for upload in listing.uploads:
        if upload.key in found:
            continue
        if lms == "canvas":
            found[upload.key] = _match_canvas(upload.key, upload.lms_name, roster)
        else:
            row = (sheet or {}).get(upload.key)
            student, how = moodle.match(upload.key, row.email if row else "", upload.lms_name, roster, {})
            found[upload.key] = (student, how, "")
    claims: dict[str, list[str]] = {}
    for key, (student, _, _) in found.items():
        if student:
            claims.setdefault(student.student_id, []).append(key)
    for sid, keys in claims.items():
        if len(keys) > 1:
            for key in keys:
                found[key] = (None, "", f"{len(keys)} submitters ({', '.join(keys)}) match roster student {sid}")
    return found


def _ids(upload: Upload) -> set[str] | None:
    try:
        return grade_ids(upload.source) or None
    except (ValueError, UnicodeDecodeError, OSError, AttributeError):
        return None


@lru_cache(maxsize=1)
def _release_notebooks() -> dict[tuple[str, str], frozenset[str]]:
    """(assignment, notebook) -> its nbgrader cell ids, for every released notebook."""
    return {(folder.name, stem): frozenset(ids) for folder in sorted(RELEASE.glob("*")) if folder.is_dir()
            for stem, ids in expected_notebooks(folder).items()}


def release_notebook(ids: set[str]) -> tuple[str, str] | None:
    """The released notebook whose cells these are (the most similar set of cell ids), if any."""
    return most_similar(ids, _release_notebooks())


def _same(a: Upload, b: Upload, ids: dict[int, set[str] | None]) -> bool:
    """Two versions of one submitted thing: notebooks recognised as the same released notebook
    by their nbgrader cells, else (unrecognised notebooks, other files) the same file name."""
    a_nb, b_nb = a.inner.suffix == ".ipynb", b.inner.suffix == ".ipynb"
    if a_nb != b_nb:
        return False
    if a_nb and ids[id(a)] and ids[id(b)]:
        known = release_notebook(ids[id(a)]), release_notebook(ids[id(b)])
        if None not in known:
            return known[0] == known[1]
        return len(ids[id(a)] & ids[id(b)]) > len(ids[id(a)] | ids[id(b)]) / 2
    return a.inner == b.inner


def resolve(uploads: list[Upload]) -> tuple[list[Upload], list[tuple[Upload, Upload]]]:
    """The uploads that count (the latest of each group of versions) and (superseded, by) pairs."""
    ids = {id(u): _ids(u) if u.inner.suffix == ".ipynb" else None for u in uploads}
    group = list(range(len(uploads)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i in range(len(uploads)):
        for j in range(i + 1, len(uploads)):
            if _same(uploads[i], uploads[j], ids):
                group[root(j)] = root(i)
    kept, superseded = [], []
    for g in sorted({root(i) for i in range(len(uploads))}):
        members = sorted((u for i, u in enumerate(uploads) if root(i) == g), key=lambda u: u.order)
        kept.append(members[-1])
        superseded += [(u, members[-1]) for u in members[:-1]]
    kept.sort(key=lambda u: str(u.inner))
    return kept, superseded


def _free(target: Path) -> Path:
    n = 1
    free = target
    while free.exists():
        free = target.with_name(f"{target.stem} ({n}){target.suffix}")
        n += 1
    return free


def _place_student(student: Student, uploads: list[Upload], out: Path) -> dict[str, str]:
    kept, superseded = resolve(uploads)
    folder = out / student.student_id
    names, others, notes = [], [], [n for u in uploads for n in u.notes]
    for upload in kept:
        target = _free(folder / Path(*upload.inner.parts))
        if upload.inner.suffix.lower() == ".zip":
            try:
                unpack(upload.source, folder / upload.inner.stem)
                names.append(f"{upload.inner} (unpacked)")
                continue
            except LmsError as exc:
                notes.append(f"{upload.inner} could not be unpacked ({exc}); kept as it is")
        place(upload.source, target)
        names.append(str(target.relative_to(folder)))
        if upload.inner.suffix != ".ipynb":
            others.append(str(upload.inner))
    for old, new in superseded:
        place(old.source, _free(out / SUPERSEDED / student.student_id / PurePosixPath(old.download_name).name))
        notes.append(f"{PurePosixPath(old.download_name).name} superseded by the later upload "
                     f"{PurePosixPath(new.download_name).name}")
    late = {u.late for u in kept}
    return {"kept": "; ".join(names),
            "superseded": "; ".join(PurePosixPath(o.download_name).name for o, _ in superseded),
            "other_files": "; ".join(others), "notes": "; ".join(notes),
            "late": "" if None in late else ("yes" if True in late else "no")}


def _place_all(listing: Listing, lms: str, roster: Roster, out: Path, sheet: Worksheet) -> list[dict[str, str]]:
    matches = _match_all(listing, lms, roster, sheet)
    by_key: dict[str, list[Upload]] = {}
    for upload in listing.uploads:
        by_key.setdefault(upload.key, []).append(upload)
    rows: list[dict[str, str]] = []
    placed: dict[str, dict[str, str]] = {}
    for key, uploads in by_key.items():
        student, how, note = matches[key]
        base = {"lms": lms, "lms_key": key, "lms_name": uploads[0].lms_name}
        if student is None:
            aside = out / UNMATCHED / safe_component(f"{key}_{uploads[0].lms_name}")
            for upload in uploads:
                place(upload.source, _free(aside / PurePosixPath(upload.download_name).name))
            rows.append({**base, "status": manifest.UNKNOWN, "kept": "; ".join(u.download_name for u in uploads),
                         "notes": "; ".join(filter(None, [note, f"files kept in {UNMATCHED}/{aside.name}/"]))})
            continue
        placed[student.student_id] = {**base, "matched_by": how, **_place_student(student, uploads, out)}
    for student in roster:
        row = {"student_id": student.student_id, "name": student.name}
        if student.student_id in placed:
            rows.append({**row, "status": manifest.SUBMITTED, **placed[student.student_id]})
        else:
            rows.append({**row, "status": manifest.MISSING, "lms": lms})
    rows += [{"status": manifest.UNRECOGNISED, "lms": lms, "kept": name,
              "notes": f"not a {lms.capitalize()} submission file name; not copied"} for name in listing.unrecognised]
    order = {manifest.SUBMITTED: 0, manifest.MISSING: 1, manifest.UNKNOWN: 2, manifest.UNRECOGNISED: 3}
    rows.sort(key=lambda r: order[r["status"]])
    return [{c: row.get(c, "") for c in manifest.COLUMNS} for row in rows]


def report_markdown(rows: list[dict[str, str]], *, lms: str, download: str, roster: int) -> str:
    """The intake report for a person."""
    sub = [r for r in rows if r["status"] == manifest.SUBMITTED]
    out = [f"# Intake of {md_cell(download)} ({lms.capitalize()})", "",
           f"- roster: {roster} students; submitted: {len(sub)} "
           f"(late: {sum(r['late'] == 'yes' for r in sub)}, lateness unknown: {sum(r['late'] == '' for r in sub)})",
           f"- in the roster, no submission: {sum(r['status'] == manifest.MISSING for r in rows)}",
           f"- submitters not in the roster: {sum(r['status'] == manifest.UNKNOWN for r in rows)}",
           f"- unrecognised file names: {sum(r['status'] == manifest.UNRECOGNISED for r in rows)}", ""]

    def table(title: str, head: list[str], body: list[list[str]], empty: str) -> None:
        out.extend([f"## {title}", ""])
        if not body:
            out.extend([empty, ""])
            return
        out.extend(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)])
        out.extend("| " + " | ".join(md_cell(c) for c in line) + " |" for line in body)
        out.append("")

    table("Late", ["student", "name", "files"], [[r["student_id"], r["name"], r["kept"]] for r in sub
                                                 if r["late"] == "yes"], "None late.")
    table("Resubmissions (the latest upload counts)", ["student", "graded", "superseded", "notes"],
          [[r["student_id"], r["kept"], r["superseded"], r["notes"]] for r in sub if r["superseded"] or r["notes"]],
          "None.")
    table("Not in the roster", [f"{lms.capitalize()} id", "name in the download", "files", "notes"],
          [[r["lms_key"], r["lms_name"], r["kept"], r["notes"]] for r in rows if r["status"] == manifest.UNKNOWN],
          "None: every submitter is in the roster.")
    table("In the roster, no submission", ["student", "name"],
          [[r["student_id"], r["name"]] for r in rows if r["status"] == manifest.MISSING], "None.")
    table("Files that are not notebooks (not graded)", ["student", "files"],
          [[r["student_id"], r["other_files"]] for r in sub if r["other_files"]], "None.")
    table("Unrecognised file names", ["file", "notes"],
          [[r["kept"], r["notes"]] for r in rows if r["status"] == manifest.UNRECOGNISED], "None.")
    return "\n".join(out)
