"""The LMS round trip on realistic Canvas and Moodle downloads and gradebooks built here: intake
through a roster, final grades exported in each LMS's import format, and the Canvas upload
against a fake Canvas REST server on 127.0.0.1. Nothing is graded and nothing leaves the machine."""
from __future__ import annotations

import csv
import io
import json
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import nbformat
import pandas as pd
import pytest

from autograder import cli
from autograder.grading import collect
from autograder.grading.results import record
from autograder.lms import LmsError, canvas, intake, manifest, moodle
from autograder.lms import export as lms_export
from autograder.lms.roster import Roster, RosterError, canvas_name_key
from autograder.reports import load_results, write_reports

ROSTER = """student_id,name,email,canvas_user_id,sis_user_id,sis_login_id,section,moodle_participant_id
s001,"Smith, John",john.smith@uni.example,1001,S001,jsmith,CNN-1,
s002,Ada Lovelace,ada@uni.example,1002,S002,alovelace,CNN-1,
s003,Grace Hopper,grace@uni.example,,S003,ghopper,CNN-2,
s004,Alan Turing,alan@uni.example,1004,S004,aturing,CNN-2,
"""
OLD, NEW = "print('first try')", "print('second try')"


def notebook(*ids: str, source: str = "pass") -> bytes:
    nb = nbformat.v4.new_notebook()
    for grade_id in ids:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": False, "solution": True, "locked": False,
                                     "schema_version": 3}
        nb.cells.append(cell)
    return nbformat.writes(nb).encode()


def student_zip(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def write_zip(path: Path, entries: list[tuple[str, bytes, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, when in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


T1, T2 = (2025, 3, 1, 10, 0, 0), (2025, 3, 2, 9, 30, 0)


@pytest.fixture
def roster_file(tmp_path) -> Path:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return tmp_path / "roster.csv"


@pytest.fixture
def release(tmp_path) -> Path:
    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "01-a.ipynb").write_bytes(notebook("a1", "a2"))
    (folder / "02-b.ipynb").write_bytes(notebook("b1"))
    return folder


@pytest.fixture
def canvas_zip(tmp_path) -> Path:
    """A Canvas "Download Submissions" zip: on time, late with a re-upload, renamed, unknown, stray."""
    return write_zip(tmp_path / "submissions.zip", [
        ("smithjohn_1001_5001_01-a.ipynb", notebook("a1", "a2"), T1),
        ("smithjohn_1001_5002_02-b.ipynb", notebook("b1"), T1),
        ("lovelaceada_LATE_1002_6001_01-a.ipynb", notebook("a1", "a2", source=OLD), T1),
        ("lovelaceada_LATE_1002_6005_01-a-1.ipynb", notebook("a1", "a2", source=NEW), T2),
        ("lovelaceada_LATE_1002_6002_notes.pdf", b"%PDF-1.4", T1),
        ("hoppergrace_1003_7001_my work (2).ipynb", notebook("a1", "a2"), T1),
        ("hoppergrace_1003_7002_lab.zip", student_zip(**{"lab/02-b.ipynb": notebook("b1")}), T1),
        ("doejane_1999_8001_01-a.ipynb", notebook("a1", "a2"), T1),
        ("README.txt", b"downloaded from Canvas", T1),
    ])


def rows_by(rows: list[dict], key: str = "student_id") -> dict[str, dict]:
    return {r[key]: r for r in rows if r[key]}


# ---------------------------------------------------------------- roster


def test_roster_reads_every_identity(roster_file):
    roster = Roster.load(roster_file)
    assert [s.student_id for s in roster] == ["s001", "s002", "s003", "s004"]
    assert roster.find("canvas_user_id", "1002").student_id == "s002"
    assert roster.find("email", "ADA@uni.example").student_id == "s002"
    assert roster.find("canvas_user_id", "1003") is None
    assert canvas_name_key("Smith, John") == canvas_name_key("John Smith") == "smithjohn"


@pytest.mark.parametrize("edit,problem", [
    (lambda t: t.replace("s002,Ada", "s001,Ada"), "line 3: student_id 's001' is also on line 2"),
    (lambda t: t.replace(",1004,", ",1001,"), "line 5: canvas_user_id '1001' is also on line 2"),
    (lambda t: t.replace(",1002,", ",10O2,"), "line 3: canvas_user_id '10O2' is not a number"),
    (lambda t: t.replace("s003,", ",", 1), "line 4: empty student_id"),
    (lambda t: t.replace("s004,", "../s4,"), "line 5: student_id '../s4' cannot name a folder"),
    (lambda t: t.replace("section,", "sektion,"), "line 1: unknown column(s) 'sektion'"),
    (lambda t: t.replace("CNN-2,\n", "CNN-2,,extra\n", 1), "line 4: 9 fields, the header has 8"),
    (lambda t: t.replace("alan@uni.example", "alan.uni.example"), "line 5: email 'alan.uni.example' is not"),
])
def test_bad_roster_rows_are_refused_naming_file_and_line(tmp_path, edit, problem):
    (tmp_path / "roster.csv").write_text(edit(ROSTER), encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        Roster.load(tmp_path / "roster.csv")
    assert str(caught.value).startswith(f"{tmp_path / 'roster.csv'}, line ") and problem in str(caught.value)


# ---------------------------------------------------------------- Canvas intake


@pytest.mark.parametrize("name,parts", [
    ("smithjohn_1001_5001_01-a.ipynb", ("smithjohn", False, "1001", 5001, "01-a.ipynb", 0)),
    ("lovelaceada_LATE_1002_6005_01-a-1.ipynb", ("lovelaceada", True, "1002", 6005, "01-a.ipynb", 1)),
    ("o_brien_17_123_2_final.ipynb", ("o_brien", False, "17", 123, "2_final.ipynb", 0)),
    ("LATE_anon_Xy12z_88_lenet.ipynb", ("", True, "anon_Xy12z", 88, "lenet.ipynb", 0)),
    ("smithjohn_LATE_1001_text.html", ("smithjohn", True, "1001", 0, "online_text.html", 0)),
])
def test_canvas_download_names(name, parts):
    got = canvas.parse_name(name)
    assert (got["name"], got["late"], got["user"], got["attachment"], got["file"], got["reupload"]) == parts


@pytest.mark.parametrize("name", ["README.txt", "John Smith_501_assignsubmission_file_hw.ipynb", "1001_hw.ipynb"])
def test_names_that_are_not_canvas_submissions(name):
    assert canvas.parse_name(name) is None


def test_canvas_intake_maps_students_and_keeps_the_latest_upload(tmp_path, canvas_zip, roster_file, release, capsys):
    out = tmp_path / "submissions"
    code = cli.main(["intake", str(canvas_zip), "--lms", "canvas", "--roster", str(roster_file), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    rows = manifest.read(out)
    by_id = rows_by(rows)
    assert {s: r["status"] for s, r in by_id.items()} == {
        "s001": "submitted", "s002": "submitted", "s003": "submitted", "s004": "no submission"}
    assert [r["late"] for r in (by_id["s001"], by_id["s002"], by_id["s003"])] == ["no", "yes", "no"]
    assert by_id["s003"]["matched_by"] == "name" and by_id["s001"]["matched_by"] == "canvas_user_id"
    # the re-upload counts, under the student's own file name; the first try is kept aside
    assert NEW in (out / "s002" / "01-a.ipynb").read_text() and not (out / "s002" / "01-a-1.ipynb").exists()
    assert by_id["s002"]["superseded"] == "lovelaceada_LATE_1002_6001_01-a.ipynb"
    assert OLD in (out / ".superseded" / "s002" / "lovelaceada_LATE_1002_6001_01-a.ipynb").read_text()
    assert by_id["s002"]["other_files"] == "notes.pdf" and (out / "s002" / "notes.pdf").is_file()
    assert (out / "s003" / "lab" / "lab" / "02-b.ipynb").is_file() and "lab.zip (unpacked)" in by_id["s003"]["kept"]
    unknown = [r for r in rows if r["status"] == "not in roster"]
    assert [(r["lms_key"], r["lms_name"]) for r in unknown] == [("1999", "doejane")]
    assert (out / ".unmatched" / "1999_doejane" / "doejane_1999_8001_01-a.ipynb").is_file()
    assert [r["kept"] for r in rows if r["status"] == "unrecognised file"] == ["README.txt"]
    for news in ("no submission: s004", "not in roster: 1999 doejane", "unrecognised file: README.txt",
                 "3 submitted (1 late, 1 with superseded files)"):
        assert news in printed
    report = (out / "intake.md").read_text()
    assert "| s002 | Ada Lovelace | 01-a.ipynb; notes.pdf |" in report
    assert "lovelaceada_LATE_1002_6001_01-a.ipynb superseded by the later upload" in report
    assert "| 1999 | doejane |" in report and "| s004 | Alan Turing |" in report
    # what grade then reads: exactly the roster students who submitted, the right notebook each
    subs = {s.student: s for s in collect.collect(out, "hw", release, tmp_path / "scratch")}
    assert set(subs) == {"s001", "s002", "s003"}
    assert NEW in subs["s002"].notebooks["01-a"].read_text()
    assert set(subs["s003"].notebooks) == {"01-a", "02-b"}


def test_a_dash_number_is_a_reupload_only_next_to_the_first_upload(tmp_path):
    names = ["smithjohn_1001_1_fig-1.png", "smithjohn_1001_2_fig-2.png", "smithjohn_1001_3_week-3.ipynb",
             "smithjohn_1001_4_hw.ipynb", "smithjohn_1001_5_hw-1.ipynb"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    got = [(str(u.inner), u.order[1], bool(u.notes)) for u in canvas.read_download(tmp_path).uploads]
    assert sorted(got) == [("fig-1.png", 0, False), ("fig-2.png", 0, False), ("hw.ipynb", 0, False),
                           ("hw.ipynb", 1, True), ("week-3.ipynb", 0, False)]


def test_notebooks_of_one_assignment_sharing_a_cell_are_not_versions_of_each_other(tmp_path, roster_file, repo):
    """The released notebooks of an assignment share a cell id (their introduction): a student who
    hands in all of them has all of them graded; only a second upload of one notebook supersedes."""
    release = repo / "release" / "pooling_lenet_alexnet"
    books = sorted(release.glob("*.ipynb"))
    shared = set.intersection(*(collect.grade_ids(p) for p in books))
    assert shared                                     # the case this guards against
    entries = [(f"smithjohn_1001_{5001 + n}_{p.name}", p.read_bytes(), T1) for n, p in enumerate(books)]
    entries.append((f"smithjohn_1001_5009_{books[0].stem}-1.ipynb", books[0].read_bytes(), T2))
    out = tmp_path / "submissions"
    intake.run(write_zip(tmp_path / "dl.zip", entries), "canvas", Roster.load(roster_file), out)
    assert sorted(p.name for p in (out / "s001").glob("*.ipynb")) == [p.name for p in books]
    row = rows_by(manifest.read(out))["s001"]
    assert row["superseded"] == f"smithjohn_1001_5001_{books[0].name}"


def test_canvas_intake_with_a_wrong_roster_or_format_lists_everyone(tmp_path, canvas_zip, roster_file):
    short = tmp_path / "short.csv"
    short.write_text("\n".join(ROSTER.splitlines()[:2]) + "\n", encoding="utf-8")   # only s001
    done = intake.run(canvas_zip, "canvas", Roster.load(short), tmp_path / "a")
    assert sorted(r["lms_key"] for r in done.rows if r["status"] == "not in roster") == ["1002", "1003", "1999"]
    assert not (tmp_path / "a" / "s002").exists()
    done = intake.run(canvas_zip, "moodle", Roster.load(roster_file), tmp_path / "b")   # the wrong LMS
    assert done.count("unrecognised file") == 9 and done.count("submitted") == 0
    assert done.count("no submission") == 4


def test_intake_with_a_bad_roster_says_so_in_one_line(tmp_path, canvas_zip, capsys):
    (tmp_path / "dup.csv").write_text(ROSTER.replace("s002,Ada", "s001,Ada"), encoding="utf-8")
    code = cli.main(["intake", str(canvas_zip), "--lms", "canvas", "--roster", str(tmp_path / "dup.csv"),
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: {tmp_path / 'dup.csv'}, line 3: student_id 's001' is also on line 2\n"
    assert not (tmp_path / "out").exists()


def test_intake_refuses_a_folder_it_did_not_make(tmp_path, canvas_zip, roster_file, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    code = cli.main(["intake", str(canvas_zip), "--lms", "canvas", "--roster", str(roster_file),
                     "--out", str(tmp_path / "mine")])
    assert code == 2 and "is not an earlier intake's folder" in capsys.readouterr().err
    assert (tmp_path / "mine" / "thesis.tex").is_file()


def test_intake_never_replaces_a_grading_folder_and_a_broken_zip_costs_only_itself(tmp_path, canvas_zip,
                                                                                   roster_file, capsys):
    """A grading output folder (which holds a copy of intake.csv) is not an intake's folder; a
    student's corrupt zip is kept as handed in, with a note, and everyone else is taken in."""
    graded = tmp_path / "graded"
    (graded / "results").mkdir(parents=True)
    (graded / manifest.NAME).write_text("student_id\n")
    code = cli.main(["intake", str(canvas_zip), "--lms", "canvas", "--roster", str(roster_file), "--out", str(graded)])
    assert code == 2 and "is not an earlier intake's folder" in capsys.readouterr().err
    assert (graded / "results").is_dir()
    good = student_zip(**{"lab/02-b.ipynb": notebook("b1")})
    broken = good[:40] + bytes(b ^ 0xFF for b in good[40:120]) + good[120:]      # a damaged deflate stream
    download = write_zip(tmp_path / "dl.zip", [("smithjohn_1001_5001_lab.zip", broken, T1),
                                               ("lovelaceada_1002_6001_01-a.ipynb", notebook("a1", "a2"), T1)])
    done = intake.run(download, "canvas", Roster.load(roster_file), tmp_path / "in")
    rows = rows_by(done.rows)
    assert rows["s002"]["status"] == rows["s001"]["status"] == "submitted"
    assert "could not be unpacked" in rows["s001"]["notes"] and (tmp_path / "in" / "s001" / "lab.zip").is_file()


# ---------------------------------------------------------------- Moodle intake

WORKSHEET = """Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,Last modified (submission),File submissions,Last modified (grade),Feedback comments
Participant 501,John Smith,john.smith@uni.example,Submitted for grading - Graded,,13.00,Yes,"Monday, 3 March 2025, 9:00 AM",01-a.ipynb,"Monday, 3 March 2025, 10:00 AM",Well done
Participant 502,Ada Lovelace,ada@uni.example,Submitted for grading - 1 day 2 hours late,,13.00,Yes,"Tuesday, 4 March 2025, 11:00 AM",hw,-,
Participant 503,Grace Hopper,,Submitted for grading,,13.00,Yes,"Monday, 3 March 2025, 8:00 AM",01-a.ipynb,-,
Participant 504,Alan Turing,alan@uni.example,No submission,,13.00,Yes,-,,-,
Participant 599,Jane Doe,jane@elsewhere.example,Submitted for grading,,13.00,Yes,"Monday, 3 March 2025, 8:00 AM",01-a.ipynb,-,
"""


@pytest.fixture
def moodle_zip(tmp_path) -> Path:
    return write_zip(tmp_path / "moodle.zip", [
        ("John Smith_501_assignsubmission_file_/01-a.ipynb", notebook("a1", "a2"), T1),
        ("John Smith_501_assignsubmission_file_/02-b.ipynb", notebook("b1"), T1),
        ("Ada Lovelace_502_assignsubmission_file_/lab/01-a.ipynb", notebook("a1", "a2"), T1),
        ("Ada Lovelace_502_assignsubmission_file_/work.zip", student_zip(**{"02-b.ipynb": notebook("b1")}), T1),
        ("Grace Hopper_503_assignsubmission_file_/01-a.ipynb", notebook("a1", "a2", source=OLD), T1),
        ("Grace Hopper_503_assignsubmission_file_/01-a (1).ipynb", notebook("a1", "a2", source=NEW), T2),
        ("Grace Hopper_503_assignsubmission_onlinetext_/onlinetext.html", b"<p>see notebook</p>", T1),
        ("Jane Doe_599_assignsubmission_file_/01-a.ipynb", notebook("a1", "a2"), T1),
    ])


def test_moodle_download_paths():
    parse = lambda p: moodle.parse_path(Path(p))   # noqa: E731
    assert parse("Ada Lovelace_502_assignsubmission_file_/lab/01-a.ipynb") == ("Ada Lovelace", "502", Path("lab/01-a.ipynb"))
    assert parse("Ada Lovelace_502_assignsubmission_file_01-a.ipynb") == ("Ada Lovelace", "502", Path("01-a.ipynb"))
    assert parse("Participant_77_assignsubmission_file_/x.ipynb") == ("Participant", "77", Path("x.ipynb"))
    assert parse("smithjohn_1001_5001_01-a.ipynb") is None


def test_moodle_intake_with_the_worksheet(tmp_path, moodle_zip, roster_file, release):
    (tmp_path / "worksheet.csv").write_text(WORKSHEET, encoding="utf-8")
    out = tmp_path / "submissions"
    code = cli.main(["intake", str(moodle_zip), "--lms", "moodle", "--roster", str(roster_file), "--out", str(out),
                     "--worksheet", str(tmp_path / "worksheet.csv")])
    assert code == 0
    rows = manifest.read(out)
    by_id = rows_by(rows)
    assert {s: (r["status"], r["late"], r["lms_key"], r["matched_by"]) for s, r in by_id.items()} == {
        "s001": ("submitted", "no", "501", "email"), "s002": ("submitted", "yes", "502", "email"),
        "s003": ("submitted", "no", "503", "name"), "s004": ("no submission", "", "", "")}
    assert NEW in (out / "s003" / "01-a (1).ipynb").read_text() and not (out / "s003" / "01-a.ipynb").exists()
    assert by_id["s003"]["superseded"] == "01-a.ipynb" and by_id["s003"]["other_files"] == "online_text/onlinetext.html"
    assert [r["lms_key"] for r in rows if r["status"] == "not in roster"] == ["599"]
    subs = {s.student: s for s in collect.collect(out, "hw", release, tmp_path / "scratch")}
    assert set(subs) == {"s001", "s002", "s003"} and set(subs["s002"].notebooks) == {"01-a", "02-b"}
    assert NEW in subs["s003"].notebooks["01-a"].read_text()


def test_moodle_intake_without_worksheet_does_not_guess_lateness(tmp_path, moodle_zip, roster_file):
    done = intake.run(moodle_zip, "moodle", Roster.load(roster_file), tmp_path / "out")
    by_id = rows_by(done.rows)
    assert [by_id[s]["late"] for s in ("s001", "s002", "s003")] == ["", "", ""]
    assert [by_id[s]["matched_by"] for s in ("s001", "s002", "s003")] == ["name"] * 3
    assert "lateness unknown: 3" in (tmp_path / "out" / "intake.md").read_text()


def test_a_bad_worksheet_row_is_refused(tmp_path, moodle_zip, roster_file):
    (tmp_path / "ws.csv").write_text(WORKSHEET.replace("Participant 503", "P503"), encoding="utf-8")
    with pytest.raises(LmsError, match=r"ws.csv, line 4: Identifier 'P503' is not 'Participant <number>'"):
        intake.run(moodle_zip, "moodle", Roster.load(roster_file), tmp_path / "out", worksheet=tmp_path / "ws.csv")


# ---------------------------------------------------------------- final grades and export


def graded(tmp_path: Path, intake_rows: list[dict] | None = None) -> Path:
    """A grading folder as grade + report --manual leave it: s001 complete, s002 with a pending
    written answer, s003 complete with a timed-out notebook, s999 graded but not in the roster."""
    out = tmp_path / "grading"

    def cells(auto: float, manual: float | None) -> list[dict]:
        return [{"grade_id": "q1_answer", "question": "q1", "kind": "manual", "score": manual, "max_score": 3.0,
                 "needs_manual": manual is None, "message": ""},
                {"grade_id": "q2_tests", "question": "q2", "kind": "auto", "score": auto, "max_score": 10.0,
                 "needs_manual": False, "message": ""}]

    for student, auto, manual, status in (("s001", 8.0, 2.5, "graded"), ("s002", 10.0, None, "graded"),
                                          ("s003", 4.0, 3.0, "timeout"), ("s999", 7.0, 1.0, "graded")):
        path = out / "results" / student / "01-a.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(record(student, "hw", "01-a", "smoke", status=status, cells=cells(auto, manual))))
    if intake_rows is not None:
        manifest.write(intake_rows, out / manifest.NAME)
    return out


def read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_export_without_template(tmp_path, roster_file, capsys):
    out = graded(tmp_path)
    assert cli.main(["export", str(out), "--lms", "canvas", "--roster", str(roster_file),
                     "--column", "CNN assignment (22)"]) == 0
    printed = capsys.readouterr().out
    rows = read_csv_rows(out / "canvas_import.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "CNN assignment (22)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "13"]
    assert rows[2:] == [["Smith, John", "1001", "S001", "jsmith", "CNN-1", "10.5"],
                        ["Grace Hopper", "", "S003", "ghopper", "CNN-2", "7"]]
    final = pd.read_csv(out / "final_grades.csv", dtype=str, keep_default_na=False).set_index("student_id")
    assert final["exported"].to_dict() == {"s001": "yes", "s002": "no", "s003": "yes", "s004": "no"}
    assert "3 hand-graded point(s) still pending" in final.loc["s002", "reason"]
    assert final.loc["s004", "reason"] == "no graded submission"
    assert "timeout" in final.loc["s003", "reason"]
    for line in ("s002: 3 hand-graded point(s) still pending", "s004: no graded submission",
                 "s999: graded but not in the roster"):
        assert line in printed
    assert "2 of 4 roster student(s) with a grade" in printed


def test_canvas_export_options_change_what_is_sent(tmp_path, roster_file):
    out = graded(tmp_path)
    cli.main(["export", str(out), "--lms", "canvas", "--roster", str(roster_file), "--include-pending",
              "--missing-zero", "--points-possible", "100"])
    rows = {r[1]: r[5] for r in read_csv_rows(out / "canvas_import.csv")[2:]}
    assert rows == {"1001": "80.77", "1002": "76.92", "": "53.85", "1004": "0"}


def test_a_bare_canvas_assignment_id_needs_the_column_name(tmp_path, roster_file, capsys):
    out = graded(tmp_path)
    assert cli.main(["export", str(out), "--lms", "canvas", "--roster", str(roster_file), "--column", "22"]) == 2
    assert "'<assignment name> (22)'" in capsys.readouterr().err


def test_missing_zero_never_zeroes_a_student_who_handed_in(tmp_path, roster_file):
    """s004 is in the intake as submitted but has no results (a shard not yet graded): no 0 is sent."""
    rows = [{"student_id": "s004", "name": "Alan Turing", "status": "submitted", "late": "no"}]
    out = graded(tmp_path, intake_rows=rows)
    cli.main(["export", str(out), "--lms", "canvas", "--roster", str(roster_file), "--missing-zero"])
    sent = {r[1]: r[5] for r in read_csv_rows(out / "canvas_import.csv")[2:]}
    assert "1004" not in sent
    final = pd.read_csv(out / "final_grades.csv", dtype=str, keep_default_na=False).set_index("student_id")
    assert final.loc["s004", "exported"] == "no" and "no grading results" in final.loc["s004", "reason"]


CANVAS_GRADEBOOK = """Student,ID,SIS User ID,SIS Login ID,Section,Lab 1 (11),CNN assignment (22),Current Score
    Points Possible,,,,,10.00,13.00,(read only)
"Smith, John",1001,S001,jsmith,CNN-1,9.00,,90
"Lovelace, Ada",1002,S002,alovelace,CNN-1,10.00,6.00,100
"Hopper, Grace",1003,S003,ghopper,CNN-2,7.00,,70
"Student, Test",1077,,teststudent,CNN-1,,,
"""


def test_canvas_export_fills_the_gradebook_template(tmp_path, roster_file, capsys):
    out = graded(tmp_path)
    (tmp_path / "gradebook.csv").write_text(CANVAS_GRADEBOOK, encoding="utf-8")
    assert cli.main(["export", str(out), "--lms", "canvas", "--roster", str(roster_file),
                     "--template", str(tmp_path / "gradebook.csv"), "--column", "22"]) == 0
    printed = capsys.readouterr().out
    frame = pd.read_csv(out / "canvas_import.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "CNN assignment (22)"]
    assert frame["Student"].str.strip().tolist() == ["Points Possible", "Smith, John", "Lovelace, Ada",
                                                     "Hopper, Grace", "Student, Test"]
    assert frame["CNN assignment (22)"].tolist() == ["13.00", "10.5", "6.00", "7", ""]   # s002 keeps Canvas's 6
    assert "line 6: Student, Test (Canvas ID 1077) is in the Canvas gradebook but not in the roster" in printed
    assert "s004: in the roster but not in the Canvas gradebook" in printed


def test_canvas_template_mistakes_are_refused(tmp_path, roster_file, capsys):
    out = graded(tmp_path)
    (tmp_path / "gradebook.csv").write_text(CANVAS_GRADEBOOK, encoding="utf-8")
    base = ["export", str(out), "--lms", "canvas", "--roster", str(roster_file), "--template",
            str(tmp_path / "gradebook.csv")]
    assert cli.main(base) == 2
    assert "2 assignment columns; choose one with --column" in capsys.readouterr().err
    assert cli.main(base + ["--column", "22", "--points-possible", "20"]) == 2
    err = capsys.readouterr().err
    assert "'CNN assignment (22)' is out of 13.00 points in Canvas but the grades are out of 20" in err
    (tmp_path / "moodle.csv").write_text(WORKSHEET, encoding="utf-8")
    assert cli.main(base[:-1] + [str(tmp_path / "moodle.csv")]) == 2
    assert "not a Canvas gradebook export" in capsys.readouterr().err


def test_moodle_export_fills_the_worksheet(tmp_path, roster_file, capsys):
    out = graded(tmp_path)
    (tmp_path / "worksheet.csv").write_text(WORKSHEET, encoding="utf-8")
    assert cli.main(["export", str(out), "--lms", "moodle", "--roster", str(roster_file),
                     "--template", str(tmp_path / "worksheet.csv")]) == 0
    printed = capsys.readouterr().out
    before = pd.read_csv(tmp_path / "worksheet.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(out / "moodle_import.csv", dtype=str, keep_default_na=False)
    assert list(after.columns) == list(before.columns)
    assert after["Grade"].tolist() == ["10.5", "", "7", "", ""]
    unchanged = [c for c in before.columns if c != "Grade"]
    assert after[unchanged].equals(before[unchanged])     # feedback, dates and the rest as Moodle gave them
    assert "Participant 599 (Jane Doe) is in the Moodle worksheet but not in the roster" in printed
    assert "cannot be changed" not in printed
    (tmp_path / "worksheet.csv").write_text(WORKSHEET.replace("13.00,Yes", "13.00,No", 1), encoding="utf-8")
    cli.main(["export", str(out), "--lms", "moodle", "--roster", str(roster_file),
              "--template", str(tmp_path / "worksheet.csv")])
    assert "Participant 501 (s001): Moodle says the grade cannot be changed" in capsys.readouterr().out
    (tmp_path / "worksheet.csv").write_text(WORKSHEET.replace("13.00", "100.00"), encoding="utf-8")
    assert cli.main(["export", str(out), "--lms", "moodle", "--roster", str(roster_file),
                     "--template", str(tmp_path / "worksheet.csv")]) == 2
    assert "Maximum Grade is 100.00 in Moodle but the grades are out of 13" in capsys.readouterr().err


def test_moodle_export_without_template_uses_the_intake_participant_ids(tmp_path, roster_file):
    rows = [{"student_id": "s001", "status": "submitted", "late": "no", "lms": "moodle", "lms_key": "501"},
            {"student_id": "s003", "status": "submitted", "late": "yes", "lms": "moodle", "lms_key": "503"}]
    out = graded(tmp_path, rows)
    to, finals, problems = lms_export.export(
        out, "moodle", Roster.load(roster_file))
    table = read_csv_rows(to)
    assert table[0] == moodle.WORKSHEET_COLUMNS
    assert [(r[0], r[1], r[4], r[5]) for r in table[1:]] == [("Participant 501", "Smith, John", "10.5", "13"),
                                                             ("Participant 503", "Grace Hopper", "7", "13")]
    assert {f.student_id: f.late for f in finals} == {"s001": "no", "s002": "", "s003": "yes", "s004": ""}
    without = graded(tmp_path / "again")     # no intake: no participant ids, nobody can be matched
    _, finals, problems = lms_export.export(
        without, "moodle", Roster.load(roster_file))
    assert len(read_csv_rows(without / "moodle_import.csv")) == 1
    assert any(p.startswith("s001: no Moodle participant id") for p in problems)
    assert {f.student_id: f.exported for f in finals}["s001"] == "no"


def test_reports_carry_the_intake_late_flags(tmp_path):
    rows = [{"student_id": "s001", "status": "submitted", "late": "no"},
            {"student_id": "s003", "status": "submitted", "late": "yes", "superseded": "hw.ipynb"},
            {"student_id": "s004", "status": "no submission"},
            {"status": "not in roster", "lms_key": "1999", "lms_name": "doejane"}]
    out = graded(tmp_path, rows)
    write_reports(load_results(out / "results"), out, assignment="hw", profile="smoke")
    grades = pd.read_csv(out / "grades.csv", dtype=str, keep_default_na=False).set_index("student")
    assert grades["late"].to_dict() == {"s001": "no", "s002": "", "s003": "yes", "s999": ""}
    summary = (out / "summary.md").read_text()
    assert "- late: s003" in summary and "- in the roster, no submission: s004" in summary
    assert "- resubmissions (the latest upload counts): s003 (superseded: hw.ipynb)" in summary
    assert "- submitters not in the roster (not graded): 1999 doejane" in summary
    plain = graded(tmp_path / "plain")
    write_reports(load_results(plain / "results"), plain, assignment="hw", profile="smoke")
    assert "late" not in pd.read_csv(plain / "grades.csv").columns
    assert "LMS intake" not in (plain / "summary.md").read_text()


def test_grade_carries_the_manifest(tmp_path):
    (tmp_path / "subs").mkdir()
    assert manifest.carry(tmp_path / "subs", tmp_path / "out") is None
    manifest.write([{"student_id": "s1", "status": "submitted", "late": "yes"}], tmp_path / "subs" / manifest.NAME)
    assert manifest.carry(tmp_path / "subs", tmp_path / "out") == tmp_path / "out" / manifest.NAME
    assert manifest.late_by_student(manifest.read(tmp_path / "out")) == {"s1": "yes"}


# ---------------------------------------------------------------- Canvas upload, against a fake Canvas


class FakeCanvas(BaseHTTPRequestHandler):
    """Only what canvasapi calls to post grades: the course, the assignment, update_grades, progress."""
    token = "secret-token"
    points = 13.0
    posted: list[dict[str, str]] = []
    seen: list[str] = []

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        self.seen.append(f"{self.command} {urlparse(self.path).path}")
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self._send(401, {"errors": [{"message": "Invalid access token."}]})
            return False
        return True

    def do_GET(self):
        if not self._authorised():
            return
        path = urlparse(self.path).path
        if path == "/api/v1/courses/42":
            self._send(200, {"id": 42, "name": "CNN architectures"})
        elif path == "/api/v1/courses/42/assignments/7":
            self._send(200, {"id": 7, "course_id": 42, "name": "CNN assignment", "points_possible": self.points})
        elif path == "/api/v1/progress/99":
            self._send(200, {"id": 99, "workflow_state": "completed", "completion": 100})
        else:
            self._send(404, {"errors": [{"message": "The specified resource does not exist."}]})

    def do_POST(self):
        if not self._authorised():
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if urlparse(self.path).path == "/api/v1/courses/42/assignments/7/submissions/update_grades":
            self.posted.append(dict(parse_qsl(body)))
            self._send(200, {"id": 99, "workflow_state": "queued", "url": "/api/v1/progress/99"})
        else:
            self._send(404, {"errors": [{"message": "The specified resource does not exist."}]})


@pytest.fixture
def fake_canvas(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    FakeCanvas.posted, FakeCanvas.seen, FakeCanvas.points = [], [], 13.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCanvas)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


pytestmark_http = pytest.mark.filterwarnings("ignore:Canvas may respond unexpectedly:UserWarning")


@pytestmark_http
def test_upload_posts_the_final_grades_to_canvas(tmp_path, roster_file, fake_canvas, monkeypatch, capsys):
    out = graded(tmp_path)
    monkeypatch.setenv("CANVAS_API_TOKEN", "secret-token")
    argv = ["upload-canvas", str(out), "--roster", str(roster_file), "--url", fake_canvas,
            "--course", "42", "--assignment", "7"]
    started = time.monotonic()
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "secret-token" not in " ".join(argv)
    assert FakeCanvas.posted == [{"grade_data[1001][posted_grade]": "10.5",
                                  "grade_data[sis_user_id:S003][posted_grade]": "7"}]
    assert FakeCanvas.seen == ["GET /api/v1/courses/42", "GET /api/v1/courses/42/assignments/7",
                               "POST /api/v1/courses/42/assignments/7/submissions/update_grades",
                               "GET /api/v1/progress/99"]
    assert "posted 2 grade(s) to Canvas course 42, assignment 7 (completed)" in printed
    assert "not posted: s002: 3 hand-graded point(s) still pending" in printed
    assert "not posted: s004: no graded submission" in printed and "not posted: s999: graded but not" in printed
    assert time.monotonic() - started < 20


@pytestmark_http
def test_upload_refuses_a_wrong_token_points_or_missing_token(tmp_path, roster_file, fake_canvas, monkeypatch, capsys):
    out = graded(tmp_path)
    argv = ["upload-canvas", str(out), "--roster", str(roster_file), "--url", fake_canvas,
            "--course", "42", "--assignment", "7"]
    monkeypatch.delenv("CANVAS_API_TOKEN", raising=False)
    assert cli.main(argv) == 2 and "set CANVAS_API_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("CANVAS_API_TOKEN", "stolen")
    assert cli.main(argv) == 2 and "Canvas refused the access token in CANVAS_API_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("CANVAS_API_TOKEN", "secret-token")
    FakeCanvas.points = 100.0
    assert cli.main(argv) == 2
    assert "is out of 100 points but the grades are out of 13" in capsys.readouterr().err
    assert cli.main(argv + ["--points-possible", "100", "--dry-run"]) == 0
    assert "would post 2 grade(s)" in capsys.readouterr().out
    assert FakeCanvas.posted == []                                  # nothing was ever posted
    assert cli.main(argv + ["--points-possible", "100"]) == 0
    assert FakeCanvas.posted == [{"grade_data[1001][posted_grade]": "80.77",
                                  "grade_data[sis_user_id:S003][posted_grade]": "53.85"}]
