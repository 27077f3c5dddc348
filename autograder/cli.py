"""Command line: ``python -m autograder COMMAND`` (also ``./kit COMMAND``).

  release     generate release/ and solutions/ from source/ (nbgrader) and check them
  grade       grade a folder of submissions, write grades, feedback and reports
  report      reports from graded results (after grading shards on several machines)
  similarity  per coding question, how much answer code each pair of students shares (HTML + CSV)
  demo        release + grade the bundled demo submissions in the smoke profile
  fetch       download datasets/weights into the cache (needs internet, verified by hash)
  provision   prepare offline data: smoke stand-ins, Keras/torchvision caches from the cache
  calibrate   run reference trainings over several seeds, record accuracies per profile
  benchmark   time and memory of grading one complete submission; time-to-accuracy
  doctor      can this machine grade? devices per framework, sandbox, cached data, a verdict
  gpu-check   a real Keras and torch training step on each visible GPU (once per grading machine)
  intake      a Canvas or Moodle submissions download -> per-student folders for grade, via a roster
  export      final grades (auto + hand-graded) as a Canvas or Moodle grade-import CSV
  upload-canvas  post the final grades to a Canvas assignment (token from CANVAS_API_TOKEN)
  check       a student's self-check: a notebook's visible tests, run the way the grader runs them
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import profiles

REPO = Path(__file__).resolve().parents[1]


def _release(args: argparse.Namespace) -> int:
    from . import release
    names = release.generate(REPO, args.assignment or None)
    print(f"generated release/ and solutions/ for {', '.join(names)}")
    leaks = release.leaks(REPO / "release")
    for leak in leaks:
        print(f"error: the release contains {leak}", file=sys.stderr)
    return 1 if leaks else 0


def _grade(args: argparse.Namespace) -> int:
    from .grading import runner
    from .reports import grade_table, write_reports
    opts = runner.Options(submissions=Path(args.submissions), assignment=args.assignment, out=Path(args.out),
                          profile=args.profile, workers=args.workers, resume=not args.no_resume,
                          seed=args.seed, mixed_precision=args.mixed_precision,
                          shard=_shard(args.shard), unconfined=args.unconfined, pipeline=not args.no_pipeline)
    from .lms import manifest
    manifest.carry(Path(args.submissions), Path(args.out))     # the intake's late flags, for the reports
    results = runner.grade(opts)
    if opts.shard[1] > 1:
        print(f"graded shard {args.shard}; when every shard is done: "
              f"python -m autograder report {args.out} --assignment {args.assignment} (and, for the similarity "
              f"report, python -m autograder similarity {args.submissions} --assignment {args.assignment} "
              f"--out {args.out})")
        return 0
    write_reports(results, Path(args.out), assignment=args.assignment, profile=args.profile)
    print(grade_table(results))
    print(f"reports in {args.out}: grades.csv, questions.csv, summary.md, feedback/, gradescope/")
    print(_similarity_report([opts.submissions], args.assignment, Path(args.out), opts.release_root))
    return 0


def _similarity_report(folders: list[Path], assignment: str, out: Path, release_root: Path) -> str:
    from .reports.similarity import report_line, write_similarity
    return report_line(write_similarity(folders, assignment, out, release_dir=release_root / assignment,
                                        scratch=out / "work" / "similarity"))


def _similarity(args: argparse.Namespace) -> int:
    print(_similarity_report([Path(args.submissions)], args.assignment, Path(args.out), REPO / "release"))
    return 0


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected INDEX/COUNT, e.g. 0/4") from None
    return index, count


def _report(args: argparse.Namespace) -> int:
    from .grading.results import ResultStore
    from .reports import grade_table, load_results, manual, write_reports
    results = load_results(Path(args.out) / "results")
    if not results:
        raise FileNotFoundError(f"{Path(args.out) / 'results'}: no grading results to report on")
    if args.manual:
        applied = manual.apply(results, Path(args.manual))
        store = ResultStore(Path(args.out))
        for result in results:   # keep the scores with the results, so later reports include them
            store.save(result)
        print(f"applied {applied} hand-graded score(s) from {args.manual}")
    write_reports(results, Path(args.out), assignment=args.assignment, profile=results[0].get("profile", "?"))
    print(grade_table(results))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import demo
    return demo.main(workers=args.workers, out=Path(args.out), resume=not args.no_resume,
                     assignments=args.assignment or None)


def _fetch(args: argparse.Namespace) -> int:
    from .data import fetch, manifest
    names = args.names or [n for n in manifest.REGISTRY]
    for name in names:
        path = fetch.fetch(name, pin=args.pin)
        print(f"{name}: {path}")
    return 0


def _provision(args: argparse.Namespace) -> int:
    from .data import provision, served
    for line in served.prepare(args.profile):
        if not args.quiet:
            print(f"ready ({args.profile}) {line}")
    if args.profile == "full":
        for report in (provision.provision_keras_cache(), provision.provision_torch_cache()):
            print(report)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from . import calibrate
    return calibrate.main(seeds=args.seeds, profile=args.profile, questions=args.question,
                          assignment=args.assignment)


def _doctor(args: argparse.Namespace) -> int:
    from . import doctor
    return doctor.main(profile=args.profile, verify=args.verify)


def _gpu_check(args: argparse.Namespace) -> int:
    from . import doctor
    return doctor.gpu_check_main(cpu=args.cpu)


def _check(args: argparse.Namespace) -> int:
    import os

    from .grading import selfcheck
    if args.print_ci:
        print(selfcheck.ci_template(args.print_ci), end="")
        return 0
    if not args.notebooks:
        raise ValueError("name the notebooks to check (files, or folders holding them)")
    summary = args.summary or os.environ.get("GITHUB_STEP_SUMMARY") or None
    return selfcheck.main([Path(p) for p in args.notebooks], assignment=args.assignment, profile=args.profile,
                          unconfined=args.unconfined, summary=Path(summary) if summary else None,
                          junit_path=Path(args.junit) if args.junit else None)


def _benchmark(args: argparse.Namespace) -> int:
    from . import benchmark
    return benchmark.main(out=Path(args.out), with_overhead=args.overhead, assignment=args.assignment,
                          with_scaling=args.scaling, copies=args.copies,
                          repeats=args.repeat)


def _intake(args: argparse.Namespace) -> int:
    from .lms import intake
    from .lms.roster import Roster
    done = intake.run(Path(args.download), args.lms, Roster.load(args.roster), Path(args.out),
                      worksheet=Path(args.worksheet) if args.worksheet else None)
    for row in done.rows:
        if row["status"] != "submitted":
            who = row["student_id"] or f"{row['lms_key'] or row['kept']}"
            print(f"  {row['status']}: {who} {row['name'] or row['lms_name']}".rstrip()
                  + (f" ({row['notes']})" if row["notes"] else ""))
    print(done.summary())
    print(f"next: python -m autograder grade {args.out} --assignment <assignment>")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .lms import export
    from .lms.roster import Roster
    to, finals, problems = export.export(Path(args.out), args.lms, Roster.load(args.roster), to=args.to,
                                         template=args.template, column=args.column,
                                         points_possible=args.points_possible,
                                         include_pending=args.include_pending, missing_zero=args.missing_zero)
    for problem in problems:
        print(f"  not exported / mismatch: {problem}")
    sent = sum(f.exported == "yes" for f in finals)
    print(f"wrote {to}: {sent} of {len(finals)} roster student(s) with a grade; "
          f"every decision in {Path(args.out) / 'final_grades.csv'}")
    return 0


def _upload_canvas(args: argparse.Namespace) -> int:
    import os

    from .lms import export, upload
    from .lms.roster import Roster
    roster = Roster.load(args.roster)
    finals, strangers = export.final_grades(Path(args.out), roster, points_possible=args.points_possible,
                                            include_pending=args.include_pending, missing_zero=args.missing_zero)
    done = upload.upload(finals, roster, url=args.url, token=os.environ.get(upload.TOKEN_VARIABLE, ""),
                         course=args.course, assignment=args.assignment, dry_run=args.dry_run)
    for line in done.skipped + strangers:
        print(f"  not posted: {line}")
    print(f"{'would post' if args.dry_run else 'posted'} {len(done.posted)} grade(s) to Canvas course "
          f"{args.course}, assignment {args.assignment} ({done.progress})")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("release", help="generate release/ and solutions/ from source/")
    r.add_argument("assignment", nargs="*")
    r.set_defaults(func=_release)

    g = sub.add_parser("grade", help="grade a folder of submissions")
    g.add_argument("submissions", help="folder of <student>/ folders or <student>.zip files")
    g.add_argument("--assignment", default="cnn_foundations")
    g.add_argument("--out", default="build/grading")
    g.add_argument("--profile", default="smoke", choices=profiles.names())
    g.add_argument("--workers", type=int, default=None, help="parallel notebooks (default: GPUs or CPUs/2)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--no-resume", action="store_true", help="re-grade notebooks already graded")
    g.add_argument("--mixed-precision", action="store_true", help="Keras mixed_float16 on GPU workers")
    g.add_argument("--no-pipeline", action="store_true", help="one grading process per worker: a notebook's "
                   "probes, judge and feedback no longer overlap the next notebook (less memory)")
    g.add_argument("--unconfined", action="store_true", help="grade WITHOUT the bubblewrap sandbox (where it "
                   "cannot run); every report then says that student code ran unconfined")
    g.add_argument("--shard", default="0/1", help="INDEX/COUNT: grade this machine's share of the students "
                   "(a Slurm job array: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT), then `report`")
    g.set_defaults(func=_grade)

    rp = sub.add_parser("report", help="write the reports from graded results (e.g. after sharded grading)")
    rp.add_argument("out", help="the --out folder the shards wrote into")
    rp.add_argument("--assignment", default="cnn_foundations")
    rp.add_argument("--manual", help="a filled manual_to_grade.csv: scores for the hand-graded answers")
    rp.set_defaults(func=_report)

    sm = sub.add_parser("similarity", help="per coding question, the answer code pairs of students share")
    sm.add_argument("submissions", help="folder of <student>/ folders or <student>.zip files (as for grade)")
    sm.add_argument("--assignment", default="cnn_foundations")
    sm.add_argument("--out", default="build/grading", help="writes similarity.html and similarity.csv here")
    sm.set_defaults(func=_similarity)

    d = sub.add_parser("demo", help="release + grade the bundled demo submissions (smoke profile)")
    d.add_argument("--out", default="build/demo")
    d.add_argument("--workers", type=int, default=None)
    d.add_argument("--no-resume", action="store_true")
    d.add_argument("--assignment", action="append", default=[],
                   help="only this assignment's demo students (repeatable; default: every assignment)")
    d.set_defaults(func=_demo)

    f = sub.add_parser("fetch", help="download datasets and weights into the cache")
    f.add_argument("names", nargs="*")
    f.add_argument("--pin", action="store_true", help="record the hash of entries the manifest cannot pin")
    f.set_defaults(func=_fetch)

    v = sub.add_parser("provision", help="prepare offline data and framework caches")
    v.add_argument("--quiet", action="store_true")
    v.add_argument("--profile", default="smoke", choices=profiles.names())
    v.set_defaults(func=_provision)

    c = sub.add_parser("calibrate", help="reference accuracies over several seeds")
    c.add_argument("--seeds", type=int, default=3)
    c.add_argument("--profile", default="smoke", choices=profiles.names())
    c.add_argument("--question", action="append")
    c.add_argument("--assignment", default="cnn_foundations")
    c.set_defaults(func=_calibrate)

    dr = sub.add_parser("doctor", help="can this machine grade? devices per framework, sandbox, data, verdict")
    dr.add_argument("--profile", default="smoke", choices=profiles.names(),
                    help="exit non-zero unless this profile can run here")
    dr.add_argument("--verify", action="store_true", help="also check the hash of every cached download")
    dr.set_defaults(func=_doctor)

    gc = sub.add_parser("gpu-check", help="a real Keras and torch training step on each visible GPU")
    gc.add_argument("--cpu", action="store_true", help="run the same steps on the CPU (checks the check)")
    gc.set_defaults(func=_gpu_check)

    k = sub.add_parser("check", help="run a notebook's visible tests the way the grader will (a self-check)")
    k.add_argument("notebooks", nargs="*", help="notebooks, or folders holding them (renamed copies are recognised)")
    k.add_argument("--assignment", help="the notebooks' assignment (default: recognised by their cells)")
    k.add_argument("--profile", default="smoke", choices=profiles.names())
    k.add_argument("--unconfined", action="store_true", help="run without the bubblewrap sandbox (it is also "
                   "skipped, with a note, where it cannot run)")
    k.add_argument("--summary", help="append a Markdown summary to this file (default: $GITHUB_STEP_SUMMARY when set)")
    k.add_argument("--junit", help="write a JUnit XML report (a CI test report) to this file")
    k.add_argument("--print-ci", choices=("github", "gitlab"),
                   help="print the CI file for a student repository (GitHub Actions or GitLab CI) and exit")
    k.set_defaults(func=_check)

    b = sub.add_parser("benchmark", help="time and memory of grading one submission")
    b.add_argument("--out", default="build/benchmark")
    b.add_argument("--assignment", default="cnn_foundations", help="whose reference submission to grade")
    b.add_argument("--overhead", action="store_true",
                   help="also time bare nbclient and unconfined grading of the same notebooks "
                        "(what the sandbox and the judge cost)")
    b.add_argument("--scaling", action="store_true",
                   help="also grade 1 and then --copies distinct copies of the reference with 1 and 2 workers: "
                        "the cost per submission over bare nbclient, the set-up, the 2-worker speed-up")
    b.add_argument("--copies", type=int, default=3, help="submissions in the --scaling run (at least 2)")
    b.add_argument("--repeat", type=int, default=1,
                   help="rounds of the --scaling measurements; each measure is the median of the rounds")
    b.set_defaults(func=_benchmark)

    i = sub.add_parser("intake", help="a Canvas or Moodle submissions download -> per-student folders")
    i.add_argument("download", help="the LMS's submissions zip (or the folder it was unpacked into)")
    i.add_argument("--lms", required=True, choices=("canvas", "moodle"))
    i.add_argument("--roster", required=True, help="roster CSV: student_id and LMS identities (see README)")
    i.add_argument("--out", required=True, help="new folder for <student_id>/ folders, intake.csv and intake.md")
    i.add_argument("--worksheet", help="Moodle: the assignment's grading worksheet CSV (late flags, email addresses)")
    i.set_defaults(func=_intake)

    def final_grade_options(q: argparse.ArgumentParser) -> None:
        q.add_argument("out", help="the grading output folder (after grade, and report --manual)")
        q.add_argument("--roster", required=True)
        q.add_argument("--points-possible", type=float, help="scale the grades to this maximum "
                       "(default: the assignment's own points)")
        q.add_argument("--include-pending", action="store_true",
                       help="also send students with hand-graded answers still pending (those count 0)")
        q.add_argument("--missing-zero", action="store_true", help="send 0 for roster students without results")

    e = sub.add_parser("export", help="final grades as a Canvas or Moodle grade-import CSV")
    final_grade_options(e)
    e.add_argument("--lms", required=True, choices=("canvas", "moodle"))
    e.add_argument("--template", help="Canvas: its gradebook export; Moodle: the grading worksheet "
                   "(rows kept, this assignment's grades filled in)")
    e.add_argument("--column", help="Canvas: the assignment's column, by name or id (with a template), "
                   "or the name of a new column (without)")
    e.add_argument("--to", help="the CSV to write (default: OUT/<lms>_import.csv)")
    e.set_defaults(func=_export)

    u = sub.add_parser("upload-canvas", help="post the final grades to a Canvas assignment (canvasapi)")
    final_grade_options(u)
    u.add_argument("--url", required=True, help="the Canvas site, e.g. https://canvas.example.edu")
    u.add_argument("--course", required=True, type=int, help="the course id (in the course's URL)")
    u.add_argument("--assignment", required=True, type=int, help="the assignment id (in its URL)")
    u.add_argument("--dry-run", action="store_true", help="check the course, assignment and points; post nothing")
    u.set_defaults(func=_upload_canvas)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .data.fetch import DataError
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, KeyError, ValueError, DataError, RuntimeError) as exc:
        # expected failures (a missing folder, an unknown profile or dataset, a corrupt file):
        # one clear line that names the file and the problem, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
