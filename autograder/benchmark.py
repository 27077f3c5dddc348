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
import subprocess
import sys
import time
from pathlib import Path

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
    """Seconds to execute each reference notebook with nbclient alone (after ``grade_once``: its staged
    data, kernel package and per-notebook requests are reused)."""
    import shutil
    import tempfile

    import nbformat
    from nbclient import NotebookClient

    from .kernel import STARTUP

    work = out / "graded" / "work"
    opts = runner.Options(submissions=out, assignment=assignment, out=out, workers=1)
    times = {}
    for path in sorted((out / "submissions" / "reference").glob("*.ipynb")):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir, evidence, ipython = Path(tmp) / "run", Path(tmp) / "evidence", Path(tmp) / "ipython"
            for folder in (run_dir, evidence, ipython):
                folder.mkdir()
            shutil.copy(path, run_dir)
            env = runner.kernel_env(opts, 0, [], data=work / "data" / "smoke" / "student", evidence=evidence,
                                    kernel_in=work / "tasks" / "reference" / path.stem / "kernel_in",
                                    ipython_dir=ipython, kernel_pkg=work / "kernel_pkg")
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


def main(out: Path = REPO / "build" / "benchmark", target: float = 0.95, max_epochs: int = 10,
         with_overhead: bool = False, assignment: str = ASSIGNMENT) -> int:
    budget_s, budget_mb = BUDGETS[assignment]
    out = out / assignment
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
    import os
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
