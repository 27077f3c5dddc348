"""The judge: verdicts computed outside the student's sandbox, from evidence and private data.

Which checks a grade cell stands for is read from the *trusted* source of that cell (the release
the gradebook holds), never from the submission. A cell passes when every check it calls passed;
a check whose evidence is missing fails (the cell did not run, or was tampered with).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping

from .. import profiles
from .specs import SPECS, folders_of, request_for
from .verdicts import MAX_EVIDENCE_BYTES, VERDICTS, Context, Failed

CALL = re.compile(r"""\bcheck\(\s*["']([\w.]+)["']\s*(,\s*hidden\s*=\s*True\s*)?\)""")

__all__ = ["CellVerdict", "HELDOUT", "checks_of", "folders_of", "requests", "judge_cells", "judge_one"]

# Checks on held-out data, which only the grader holds (a self-check leaves them to it)
HELDOUT = frozenset({"predictions", "app", "predict_files"})
LEFT_TO_GRADER = "measured by the grader on held-out data"


@dataclass
class CellVerdict:
    grade_id: str
    passed: bool
    messages: list[str] = field(default_factory=list)   # one line per check, feedback-safe
    review: list[str] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)


def checks_of(source: str) -> list[str]:
    """Check keys a grade cell's trusted source calls (``id`` or ``id#hidden``), in order."""
    return [m.group(1) + ("#hidden" if m.group(2) else "") for m in CALL.finditer(source)]


def settings(question: str, profile: str) -> Mapping[str, Any]:
    """The question's profile row; questions with no budget (formulas) have an empty one."""
    try:
        return profiles.settings(question, profile)
    except profiles.ProfileError:
        return {}


# Checks whose evidence the grader produces itself after the notebook, in a fresh sandbox
# (the kernel only notes that it got there): the Streamlit app is run by the probe, not the notebook.
PROBED = frozenset({"app"})


def requests(keys: Iterable[str], profile: str, *, probed: bool = True) -> dict[str, dict[str, Any]]:
    """What the kernel must measure for ``keys``: inputs only (no expected values, no thresholds).
    ``probed``: checks of the :data:`PROBED` kinds are left to the grader's own probe run."""
    out = {}
    for key in keys:
        spec = SPECS[key]
        out[key] = request_for(key, settings(spec.question, profile))
        if probed and spec.kind in PROBED:
            out[key] = dict(out[key], deferred=True)
    return out


def probes(keys: Iterable[str], profile: str) -> dict[str, dict[str, Any]]:
    """The checks among ``keys`` whose evidence the grader's probe produces, with their requests."""
    return {key: request_for(key, settings(SPECS[key].question, profile))
            for key in keys if key in SPECS and SPECS[key].kind in PROBED}


def budgets(keys: Iterable[str], profile: str) -> dict[str, Any]:
    """The budget values of the questions these checks belong to, without thresholds."""
    rows = {}
    for key in keys:
        question = SPECS[key].question
        rows[question] = {k: v for k, v in settings(question, profile).items() if not k.startswith("min_")}
    return {"profile": profile, "description": profiles.description(profile), "questions": rows}


def _evidence(folder: Path, key: str) -> dict[str, Any] | None:
    path = folder / f"{key.replace('#', '__')}.json"
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_EVIDENCE_BYTES:
        return None
    try:
        value = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


# Checks of a model's finished training: not measured when a cell of the notebook was stopped by the time limit
AFTER_TRAINING = frozenset({"predictions", "eval_mode", "predict_files"})


def judge_one(key: str, evidence: Mapping[str, Any] | None, *, profile: str, evidence_dir: Path,
              work_dir: Path | None, private_dir: Path | None,
              metrics: list[dict[str, Any]] | None = None,
              stopped: Mapping[str, float] | None = None) -> tuple[bool, str, list[str]]:
    """(passed, message, review notes) of one check; measured metrics are appended to ``metrics``.
    ``stopped``: the cells (grade id -> seconds) the per-cell time limit interrupted."""
    spec = SPECS[key]
    if evidence is None:
        return False, "this check did not run (the cell did not finish, or it was changed)", []
    if stopped and spec.kind in AFTER_TRAINING:
        cell, seconds = next(iter(stopped.items()))
        return False, (f"the cell `{cell}` was stopped by the time limit ({seconds:g} s per cell) before it finished, "
                       "so the training it runs did not finish: a model whose training was cut short is not measured. "
                       "Make the training fit the budget (EPOCHS and BATCH_SIZE as given; e.g. no upscaling of "
                       "small images)"), []
    row = settings(spec.question, profile)
    ctx = Context(evidence_dir, work_dir, private_dir, row, hidden=key.endswith("#hidden"),
                  question=spec.question, profile=profile)
    ctx.metrics = metrics if metrics is not None else []
    request = request_for(key, row)
    try:
        return True, VERDICTS[spec.kind](spec.expect, evidence, ctx, request), ctx.review
    except Failed as failed:
        return False, str(failed), ctx.review
    except Exception as err:       # malformed evidence: the answer does not get the points
        return False, f"the evidence of this check could not be read ({type(err).__name__})", ctx.review


def judge_cells(cells: Mapping[str, str], *, profile: str, evidence_dir: Path, work_dir: Path | None,
                private_dir: Path | None, probe_dir: Path | None = None,
                stopped: Mapping[str, float] | None = None,
                after_stop: Iterable[str] | None = None, skip: Collection[str] = ()) -> dict[str, CellVerdict]:
    """Verdicts of the grade cells (``grade_id -> trusted source``) that call checks. Evidence of
    :data:`PROBED` checks is read from ``probe_dir`` (the grader's own run), never from the kernel's.
    ``stopped``: cells the time limit interrupted; it counts for the grade cells in ``after_stop`` (those
    that ran after the first stopped cell; None: all of them). ``skip``: check kinds not judged here (a
    self-check leaves :data:`HELDOUT` to the grader): each says so and does not change its cell's verdict."""
    verdicts = {}
    later = None if after_stop is None else set(after_stop)
    for grade_id, source in cells.items():
        keys = checks_of(source)
        if not keys:
            continue
        cell = CellVerdict(grade_id, True)
        for key in keys:
            if key not in SPECS:
                cell.passed = False
                cell.messages.append(f"unknown check {key!r} (a mistake in the assignment)")
                continue
            if SPECS[key].kind in skip:
                cell.messages.append(LEFT_TO_GRADER)
                continue
            probed = probe_dir is not None and SPECS[key].kind in PROBED
            if probed and _evidence(evidence_dir, key) is None:
                evidence = None          # the notebook never reached the check: the app is not graded
            else:
                evidence = _evidence(probe_dir if probed else evidence_dir, key)
            ok, message, review = judge_one(key, evidence, profile=profile,
                                            evidence_dir=evidence_dir, work_dir=work_dir, private_dir=private_dir,
                                            metrics=cell.metrics,
                                            stopped=stopped if later is None or grade_id in later else None)
            cell.passed &= ok
            cell.messages.append(("" if ok else "FAILED: ") + message)
            cell.review += review
        verdicts[grade_id] = cell
    return verdicts
