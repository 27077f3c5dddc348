"""Calibrate thresholds: grade the reference solution over several seeds, record held-out accuracy.

    python -m autograder calibrate --seeds 3 --profile smoke

Writes ``autograder/calibration/<profile>.csv`` (one row per question and seed) and prints mean and
minimum per question next to the threshold in ``profiles.toml``. A threshold must sit below the
minimum by at least ``MARGIN`` so a correct solution never fails by chance; the test suite checks it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .demo import submissions
from .grading import runner

REPO = Path(__file__).resolve().parents[1]
CALIBRATION = Path(__file__).with_name("calibration")
MARGIN = 0.02


def csv_path(profile: str) -> Path:
    return CALIBRATION / f"{profile}.csv"


def measures_heldout(release_nb: Path, questions: list[str] | None = None) -> bool:
    """Does the notebook's source call a check that measures held-out accuracy (a profile threshold),
    for one of ``questions`` ("q7") when given?"""
    import nbformat

    from .judge import checks_of
    from .judge.specs import SPECS
    source = nbformat.read(REPO / "source" / release_nb.parent.name / release_nb.name, as_version=4)
    return any(SPECS[key].kind in ("predictions", "predict_files") and (not questions or SPECS[key].question.split(".")[-1] in questions)
               for cell in source.cells if cell.cell_type == "code"
               for key in checks_of(cell.source) if key in SPECS)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.groupby(["assignment", "question"]).agg(
        seeds=("seed", "nunique"), mean=("accuracy", "mean"), min=("accuracy", "min"),
        max=("accuracy", "max"), threshold=("threshold", "first")).reset_index()
    out["headroom"] = out["min"] - out["threshold"]
    return out


def main(*, seeds: int = 3, profile: str = "smoke", questions: list[str] | None = None,
         assignment: str = "cnn_foundations", out: Path = REPO / "build" / "calibration") -> int:
    """Calibrate ``assignment``'s thresholds; the other assignments' rows of the CSV are kept."""
    out = out / assignment
    subs = out / "submissions"
    submissions.write_all(REPO / "source" / assignment, REPO / "release" / assignment, subs,
                          only=["reference"], keep=lambda nb: measures_heldout(nb, questions))
    rows = []
    for seed in range(seeds):
        opts = runner.Options(submissions=subs, assignment=assignment, out=out / f"seed{seed}",
                              profile=profile, seed=seed)
        for result in runner.grade(opts):
            for metric in result.get("metrics", []):
                q = metric["question"].split(".")[-1]
                if questions and q not in questions:
                    continue
                if metric.get("metric", "heldout_accuracy") != "heldout_accuracy":     # e.g. q10.min_class_recall
                    q = f"{q}.{metric['metric']}"
                rows.append({"assignment": assignment, "question": q, "seed": seed,
                             "accuracy": round(metric["value"], 4), "threshold": metric["threshold"],
                             "elapsed_s": result.get("elapsed_s")})
    frame = pd.DataFrame(rows)
    CALIBRATION.mkdir(exist_ok=True)
    if csv_path(profile).is_file():
        kept = pd.read_csv(csv_path(profile))
        replaced = (kept["assignment"] == assignment) & (
            kept["question"].str.split(".").str[0].isin(questions) if questions else True)
        kept = kept[~replaced]
        frame = pd.concat([kept, frame], ignore_index=True)
    frame = frame.sort_values(["assignment", "question", "seed"])
    frame.to_csv(csv_path(profile), index=False)
    table = summary(frame)
    print(table.to_string(index=False))
    low = table[table["headroom"] < MARGIN]
    if not low.empty:
        print(f"\nthresholds closer than {MARGIN} to the reference minimum: "
              f"{', '.join(low['assignment'] + '.' + low['question'])}")
        return 1
    print(f"\nwrote {csv_path(profile).relative_to(REPO)}")
    return 0
