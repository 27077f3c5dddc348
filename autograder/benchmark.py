"""Benchmark: grading one complete submission (time, peak memory) and time-to-accuracy.

    python -m autograder benchmark

1. grades the reference submission of ``cnn_foundations`` once, from scratch, in the smoke profile,
   and prints wall time and peak memory per notebook (budget: 3 minutes, 4 GiB);
2. trains the reference MNIST CNN and a typical naive answer (the classic Keras example: two
   convs, a 128-unit dense layer, 1.2 M parameters, batch 32) on the same data and prints the
   time each needs to reach the same held-out accuracy.

With ``--overhead`` it also measures what the sandbox and the judge cost: the same notebooks
executed by bare nbclient (same kernel start-up hook and data, no nbgrader, no sandbox, no judge),
graded unconfined, and graded in the sandbox; per notebook, the judge's own time.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .demo import submissions
from .grading import runner

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "cnn_foundations"
BUDGETS = {"cnn_foundations": (180, 4096), "cnn_architectures": (300, 6144),   # smoke, one worker: s, MB
           "pooling_lenet_alexnet": (240, 4096)}

TIME_TO_ACCURACY = r'''
import json, sys, time
import keras
from keras import layers
from autograder.data import served
(x, y), (xt, yt) = served.mnist()
x = x[..., None].astype("float32") / 255; xt = xt[..., None].astype("float32") / 255
target, max_epochs = float(sys.argv[1]), int(sys.argv[2])
def reference():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.25),
        layers.Dense(10, activation="softmax")]), 64
def naive():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Dropout(0.25), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dropout(0.5), layers.Dense(10, activation="softmax")]), 32
out = {}
for name, build in [("reference", reference), ("naive", naive)]:
    keras.utils.set_random_seed(0)
    model, batch = build()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    spent, reached = 0.0, None
    for epoch in range(1, max_epochs + 1):
        t = time.perf_counter(); model.fit(x, y, batch_size=batch, epochs=1, verbose=0); spent += time.perf_counter() - t
        acc = model.evaluate(xt, yt, verbose=0)[1]
        if acc >= target:
            reached = epoch; break
    out[name] = {"params": model.count_params(), "batch_size": batch, "epochs": reached,
                 "train_seconds": round(spent, 1), "accuracy": round(float(acc), 4)}
print(json.dumps(out))
'''


def grade_once(out: Path, *, unconfined: bool = False, assignment: str = ASSIGNMENT) -> list[dict]:
    subs = out / "submissions"
    submissions.write_all(REPO / "source" / assignment, REPO / "release" / assignment, subs, only=["reference"])
    opts = runner.Options(submissions=subs, assignment=assignment, out=out / ("unconfined" if unconfined else "graded"),
                          profile="smoke", workers=1, resume=False, reuse_identical=False, unconfined=unconfined,
                          log=lambda line: None if unconfined else print(line, flush=True))
    return runner.grade(opts)


def bare_nbclient(out: Path, assignment: str = ASSIGNMENT) -> dict[str, float]:
    """:func:`bare_nbclient_of` the reference ``grade_once`` graded."""
    return bare_nbclient_of(out / "graded" / "work", assignment, "reference")


def bare_nbclient_of(work: Path, assignment: str, student: str, *, probed: bool = False,
                     only: set[str] | None = None) -> dict[str, float]:
    """Seconds to execute each notebook exactly as grading ran it (the submission with nbgrader's
    restored and hidden tests: the executed notebook grading kept) with nbclient alone, one after
    the other: the same kernel start-up hook, data, requests and budgets, so the kernel-side evidence
    is exported too; no nbgrader, no sandbox, no judge, no feedback. The tests' app check runs the
    app in the kernel, as the notebook's test asks (``probed``: it is left out, as grading leaves it
    to the grader's own probe). ``only``: these notebooks (stems)."""
    import tempfile

    import nbformat
    from nbclient import NotebookClient

    from .kernel import STARTUP

    opts = runner.Options(submissions=work, assignment=assignment, out=work, workers=1)
    check_keys = _check_keys(work, assignment)
    times = {}
    for path in sorted((work / "tasks" / student).glob(f"*/autograded/{student}/{assignment}/*.ipynb")):
        if only is not None and path.stem not in only:
            continue
        keys = check_keys.get(path.stem, [])
        with tempfile.TemporaryDirectory() as tmp:
            run_dir, evidence, ipython, kernel_in = (Path(tmp) / n for n in ("run", "evidence", "ipython", "in"))
            for folder in (run_dir, evidence, ipython, kernel_in):
                folder.mkdir()
            runner.write_kernel_inputs(kernel_in, keys, "smoke", probed=probed)
            shutil.copy(path, run_dir)
            env = runner.kernel_env(opts, 0, [], data=work / "data" / "smoke" / "student", evidence=evidence,
                                    kernel_in=kernel_in, ipython_dir=ipython, kernel_pkg=work / "kernel_pkg")
            nb = nbformat.read(run_dir / path.name, as_version=4)
            client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                    resources={"metadata": {"path": str(run_dir)}},
                                    extra_arguments=[f"--IPKernelApp.exec_lines={[STARTUP.strip()]!r}"])
            started = time.perf_counter()
            client.execute(env=env)
            times[path.stem] = time.perf_counter() - started
    return times


def overhead(out: Path, sandboxed: list[dict], assignment: str = ASSIGNMENT) -> list[dict]:
    """Per notebook: bare nbclient, graded unconfined, graded in the sandbox, the judge's time."""
    bare = bare_nbclient(out, assignment)
    unconfined = {r["notebook"]: r for r in grade_once(out, unconfined=True, assignment=assignment)}
    rows = []
    for r in sandboxed:
        name = r["notebook"]
        rows.append({"notebook": name, "bare_nbclient_s": round(bare.get(name, float("nan")), 1),
                     "graded_unconfined_s": unconfined[name]["elapsed_s"], "graded_sandboxed_s": r["elapsed_s"],
                     "judge_s": r.get("judge_s", 0.0),
                     "sandbox_s": round(r["elapsed_s"] - unconfined[name]["elapsed_s"], 1)})
    return rows


def _check_keys(work: Path, assignment: str) -> dict[str, list[str]]:
    """notebook stem -> the judge's checks of its grade cells (from the instructor's source)."""
    from .grading.worker import checks_in, trusted_sources

    source = work / "template" / assignment / "source" / assignment
    return {path.stem: checks_in(trusted_sources(path)) for path in sorted(source.glob("*.ipynb"))}


def _copies(out: Path, assignment: str, n: int) -> Path:
    """``n`` distinct copies of the reference submission (each notebook's metadata names its copy,
    so no two are byte-identical and none is graded as a duplicate of another)."""
    import nbformat

    one = out / "one"
    submissions.write_all(REPO / "source" / assignment, REPO / "release" / assignment, one, only=["reference"])
    folder = out / f"copies{n}"
    for k in range(n):
        (folder / f"student{k + 1:02d}").mkdir(parents=True, exist_ok=True)
        for path in sorted((one / "reference").glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            nb.metadata["benchmark_copy"] = k + 1
            nbformat.write(nb, folder / f"student{k + 1:02d}" / path.name)
    return folder


@dataclass
class Usage:
    """What one measured step cost: wall seconds, CPU seconds the machine spent meanwhile (every
    process: kernels in their sandboxes are reaped outside this process's tree, so its own rusage
    would miss them; run nothing else meanwhile), and CPU seconds a virtual machine's host took
    (``steal``). CPU time hardly moves with a busy host; wall time does."""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    stolen_s: float = 0.0


def _cpu_fields() -> list[float]:
    """Seconds since boot per /proc/stat column (user nice system idle iowait irq softirq steal ...)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        return [int(f) / os.sysconf("SC_CLK_TCK") for f in fields]
    except (OSError, ValueError):
        return []


def _cpu_s() -> float:
    """CPU seconds the machine has spent working since boot (user, nice, system, irq, softirq)."""
    f = _cpu_fields()
    return f[0] + f[1] + f[2] + f[5] + f[6] if len(f) > 6 else 0.0


def stolen_cpu_s() -> float:
    """CPU seconds a virtual machine's host has taken from it since boot (0 where there is none)."""
    f = _cpu_fields()
    return f[7] if len(f) > 7 else 0.0


@contextmanager
def measured() -> Iterator[Usage]:
    """``with measured() as used: ...``: ``used`` holds the step's :class:`Usage` afterwards."""
    used = Usage()
    wall, cpu, stolen = time.perf_counter(), _cpu_s(), stolen_cpu_s()
    try:
        yield used
    finally:
        used.wall_s = time.perf_counter() - wall
        used.cpu_s, used.stolen_s = _cpu_s() - cpu, stolen_cpu_s() - stolen


def _timed_run(subs: Path, out: Path, assignment: str, workers: int) -> tuple[Usage, dict[str, float], list[dict]]:
    """What grading cost (set-up and reports included); the seconds of the run's set-up (until the
    first task is handed out) and of the reports alone; the results."""
    from .reports import write_reports

    shutil.rmtree(out, ignore_errors=True)
    opts = runner.Options(submissions=subs, assignment=assignment, out=out, profile="smoke", workers=workers,
                          resume=False, log=lambda line: None)
    with measured() as used:
        results = runner.grade(opts)
        graded = time.perf_counter()
        write_reports(results, out, assignment=assignment, profile="smoke")
        reports = time.perf_counter() - graded
    return used, {"setup_s": opts.timings["setup_s"], "reports_s": reports}, results


@dataclass
class Round:
    """One round of the measurements :func:`scaling` takes the medians of: the graded runs (1 copy,
    ``copies`` copies, the same with 2 workers), bare nbclient on the 1-copy run's notebooks, and what
    the runs recorded of themselves."""
    u1: Usage                        # graded, 1 copy, 1 worker
    ub: Usage                        # bare nbclient, the same notebooks
    un: Usage                        # graded, ``copies`` copies, 1 worker
    u2: Usage                        # graded, ``copies`` copies, 2 workers
    r1: dict[str, float]             # the 1-copy run's set-up and reports (seconds)
    rn: dict[str, float]
    bare: float                      # bare nbclient, seconds (the app test run in the kernel)
    without_app: float               # the same with the app test left to the grader's probe
    results: list[dict]              # the ``copies``-copy run's results
    notebooks: int                   # notebooks of one submission
    tasks_1_s: float                 # the 1-copy run's time with a task running (:func:`busy_s`)
    tasks_n_s: float


def _scaling_round(out: Path, assignment: str, copies: int, one: Path, many: Path) -> Round:
    """One :class:`Round`."""
    from . import judge

    u1, r1, first = _timed_run(one, out / "graded1", assignment, 1)
    work = out / "graded1" / "work"
    with measured() as ub:
        bare = bare_nbclient_of(work, assignment, "student01")
    with_app = {stem for stem, keys in _check_keys(work, assignment).items() if judge.probes(keys, "smoke")}
    without_app = dict(bare, **bare_nbclient_of(work, assignment, "student01", probed=True, only=with_app))
    un, rn, results = _timed_run(many, out / f"graded{copies}", assignment, 1)
    u2, _, _ = _timed_run(many, out / f"graded{copies}w2", assignment, 2)
    return Round(u1=u1, ub=ub, un=un, u2=u2, r1=r1, rn=rn, bare=sum(bare.values()),
                 without_app=sum(without_app.values()), results=results, notebooks=len(first),
                 tasks_1_s=busy_s(first), tasks_n_s=sum(r["elapsed_s"] for r in results))


def busy_s(results: list[dict]) -> float:
    """Seconds during which at least one of these tasks ran (pipelined tasks overlap: their union)."""
    spans = sorted((r["finished_at"] - r["elapsed_s"], r["finished_at"]) for r in results if "finished_at" in r)
    total, end = sum(r["elapsed_s"] for r in results if "finished_at" not in r), float("-inf")
    for start, stop in spans:
        total += max(0.0, stop - max(start, end))
        end = max(end, stop)
    return total


def _derived(r: Round, copies: int) -> dict[str, float]:
    """One round's measures: each compares runs of the same round (a host's speed drifts between rounds)."""
    slope = (r.un.wall_s - r.u1.wall_s) / (copies - 1)
    cpu_slope = (r.un.cpu_s - r.u1.cpu_s) / (copies - 1)
    return {"bare_nbclient_s": r.bare, "graded_1_s": r.u1.wall_s, f"graded_{copies}_s": r.un.wall_s,
            "reports_1_s": r.r1["reports_s"], f"reports_{copies}_s": r.rn["reports_s"],
            "setup_until_first_task_s": r.r1["setup_s"], "outside_tasks_1_s": r.u1.wall_s - r.tasks_1_s,
            "tasks_per_submission_s": r.tasks_n_s / copies, "bare_nbclient_without_app_test_s": r.without_app,
            "per_submission_s": slope, "overhead_per_submission_s": slope - r.bare,
            "overhead_over_bare_without_app_test_s": slope - r.without_app, "setup_s": r.u1.wall_s - slope,
            f"graded_{copies}_2_workers_s": r.u2.wall_s, "two_worker_ratio": r.u2.wall_s / r.un.wall_s,
            "busy_cpus_1_worker": r.un.cpu_s / r.un.wall_s, "busy_cpus_2_workers": r.u2.cpu_s / r.u2.wall_s,
            "bare_nbclient_cpu_s": r.ub.cpu_s, "cpu_per_submission_s": cpu_slope,
            "cpu_overhead_per_submission_s": cpu_slope - r.ub.cpu_s, "cpu_setup_s": r.u1.cpu_s - cpu_slope,
            "cpu_stolen_by_host_s": r.u1.stolen_s + r.ub.stolen_s + r.un.stolen_s + r.u2.stolen_s}


def scaling(out: Path, assignment: str = ASSIGNMENT, copies: int = 3, repeats: int = 1) -> dict:
    """The cost per submission over bare execution, the once-per-run set-up, and 1 vs 2 workers:
    grade 1 and then ``copies`` distinct copies of the reference (1 worker), the slope is the cost of
    one more submission and the intercept the set-up; then the same copies with 2 workers; bare
    nbclient runs the very notebooks grading executed (:func:`bare_nbclient`). With ``repeats``,
    each measure is the median over that many rounds of what it is within a round."""
    one, many = _copies(out, assignment, 1), _copies(out, assignment, copies)
    rounds = [_scaling_round(out, assignment, copies, one, many) for _ in range(max(1, repeats))]
    per_round = [_derived(r, copies) for r in rounds]
    results = rounds[-1].results
    phases: dict[str, float] = {}
    for r in results:
        for name, seconds in (r.get("phases") or {}).items():
            phases[name] = phases.get(name, 0.0) + seconds / copies
    row: dict = {"assignment": assignment, "copies": copies, "repeats": len(rounds)}
    for key in per_round[0]:
        row[key] = round(statistics.median(d[key] for d in per_round), 2 if "ratio" in key or "busy" in key else 1)
    row.update({"phases_per_submission_s": {k: round(v, 2) for k, v in phases.items()},
                "kernels_started_ahead": sum(bool(r.get("kernel_started_ahead")) for r in results),
                "notebooks": len(results), "cpus": os.cpu_count(),
                "rounds": [{k: round(v, 2) for k, v in d.items()} for d in per_round]})
    first_n = rounds[-1].notebooks
    print(f"\ngrading cost per submission of {assignment} (smoke, reference, {first_n} notebooks; "
          f"1 and {copies} distinct copies, 1 worker (two grading processes taking turns)" + (f"; medians of {len(rounds)} rounds" if len(rounds) > 1 else "")
          + "):")
    print(f"  bare nbclient, the same notebooks: {row['bare_nbclient_s']:.1f} s "
          f"(the app test run in the kernel; {row['bare_nbclient_without_app_test_s']:.1f} s without it)")
    print(f"  graded, per submission (slope):    {row['per_submission_s']:.1f} s   "
          f"overhead {row['overhead_per_submission_s']:+.1f} s per submission "
          f"({row['overhead_over_bare_without_app_test_s']:+.1f} s over bare without the app test; "
          f"its notebooks' tasks {row['tasks_per_submission_s']:.1f} s)")
    print(f"  set-up once per run (intercept):   {row['setup_s']:.1f} s (in the 1-copy run: {row['outside_tasks_1_s']:.1f} s "
          f"outside its notebooks' tasks, of which {row['setup_until_first_task_s']:.1f} s until the first one "
          f"started and {row['reports_1_s']:.1f} s of reports)")
    print(f"  CPU time per submission (machine): {row['cpu_per_submission_s']:.1f} s graded, "
          f"{row['bare_nbclient_cpu_s']:.1f} s bare: overhead {row['cpu_overhead_per_submission_s']:+.1f} s "
          f"(set-up {row['cpu_setup_s']:.1f} s)")
    print("  where a submission's time goes:    " + ", ".join(f"{k} {v:.1f} s" for k, v in
                                                              row["phases_per_submission_s"].items()))
    print(f"  kernels started ahead of need:     {row['kernels_started_ahead']} of {len(results)} notebooks")
    print(f"  {copies} submissions: 1 worker {row[f'graded_{copies}_s']:.0f} s, 2 workers "
          f"{row[f'graded_{copies}_2_workers_s']:.0f} s ({row['two_worker_ratio']:.2f} of the 1-worker time, "
          f"{row['cpus']} CPUs; CPUs busy on average: {row['busy_cpus_1_worker']:.2f} with 1 worker, "
          f"{row['busy_cpus_2_workers']:.2f} with 2)")
    print(f"  CPU taken by the host meanwhile:   {row['cpu_stolen_by_host_s']:.1f} s in a round "
          "(a busy host slows the wall times)")
    if len(rounds) > 1:
        print("  per round, overhead per submission: " + ", ".join(
            f"{d['overhead_per_submission_s']:+.1f} s" for d in per_round) + "; set-up: " + ", ".join(
            f"{d['setup_s']:.1f} s" for d in per_round) + "; 2-worker ratio: " + ", ".join(
            f"{d['two_worker_ratio']:.2f}" for d in per_round))
    (out / "scaling.json").write_text(json.dumps(row, indent=1))
    return row


def main(out: Path = REPO / "build" / "benchmark", target: float = 0.95, max_epochs: int = 10,
         with_overhead: bool = False, assignment: str = ASSIGNMENT, with_scaling: bool = False,
         copies: int = 3, repeats: int = 1) -> int:
    budget_s, budget_mb = BUDGETS[assignment]
    out = out / assignment
    if with_scaling:
        scaling(out / "scaling", assignment, copies, repeats)
    started = time.perf_counter()
    results = grade_once(out, assignment=assignment)
    wall = time.perf_counter() - started
    peak = max(r.get("peak_rss_mb", 0) for r in results)
    print(f"\nsmoke grading of one complete {assignment} submission: {wall:.0f} s wall "
          f"(budget {budget_s} s), peak {peak:.0f} MB (budget {budget_mb} MB), 1 worker")
    for r in results:
        print(f"  {r['notebook']:<22} {r['elapsed_s']:>6.1f} s  {r.get('peak_rss_mb', 0):>6.0f} MB")
    costs = overhead(out, results, assignment) if with_overhead else []
    if costs:
        print("\nwhat the sandbox and the judge cost, per notebook (seconds, 1 worker):")
        print(f"  {'notebook':<22} {'nbclient':>8} {'unconfined':>10} {'sandboxed':>9} {'judge':>6} {'sandbox':>7}")
        for row in costs:
            print(f"  {row['notebook']:<22} {row['bare_nbclient_s']:>8.1f} {row['graded_unconfined_s']:>10.1f} "
                  f"{row['graded_sandboxed_s']:>9.1f} {row['judge_s']:>6.2f} {row['sandbox_s']:>7.1f}")
    env_cmd = [sys.executable, "-c", TIME_TO_ACCURACY, str(target), str(max_epochs)]
    env = dict(os.environ, AUTOGRADER_PROFILE="smoke", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(env_cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
        return 1
    tta = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\ntime to {target:.2f} held-out accuracy on the smoke MNIST data (CPU, training time only):")
    for name, row in tta.items():
        print(f"  {name:<10} {row['params']:>9,} params, batch {row['batch_size']:>3}: "
              f"{row['train_seconds']:>5.1f} s, {row['epochs']} epoch(s), accuracy {row['accuracy']:.3f}")
    (out / "benchmark.json").write_text(json.dumps({"grading_wall_s": wall, "peak_rss_mb": peak,
                                                    "notebooks": results, "time_to_accuracy": tta,
                                                    "overhead": costs}, indent=1))
    return 0 if wall <= budget_s and peak <= budget_mb else 1
