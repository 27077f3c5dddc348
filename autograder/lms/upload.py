"""Post final grades to a Canvas assignment through the Canvas REST API (``canvasapi``).

Calls: ``GET /api/v1/courses/:course`` (``Canvas.get_course``), ``GET .../assignments/:id``
(``Course.get_assignment``: its ``points_possible`` must match the grades'), one
``POST .../assignments/:id/submissions/update_grades`` with ``grade_data[<user>][posted_grade]``
(``Assignment.submissions_bulk_update``), then ``GET /api/v1/progress/:id`` until Canvas has applied
it. ``<user>`` is the roster's ``canvas_user_id``, else ``sis_user_id:<SIS User ID>``. The access
token comes from the environment (``CANVAS_API_TOKEN``), never from the command line.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import LmsError
from .canvas import grade_text
from .export import FinalGrade
from .roster import Roster

TOKEN_VARIABLE = "CANVAS_API_TOKEN"


@dataclass
class UploadResult:
    posted: dict[str, str] = field(default_factory=dict)     # student id -> grade sent
    skipped: list[str] = field(default_factory=list)          # student id: why
    progress: str = ""


def canvas_user(student) -> str:
    if student.canvas_user_id:
        return student.canvas_user_id
    if student.sis_user_id:
        return f"sis_user_id:{student.sis_user_id}"
    return ""


def upload(finals: list[FinalGrade], roster: Roster, *, url: str, token: str, course: int, assignment: int,
           dry_run: bool = False, wait_s: float = 120.0, poll_s: float = 1.0) -> UploadResult:
    """Post every exportable final grade to ``assignment`` of ``course``."""
    from canvasapi import Canvas
    from canvasapi.exceptions import CanvasException, InvalidAccessToken, Unauthorized
    from requests.exceptions import RequestException

    if not token:
        raise LmsError(f"set {TOKEN_VARIABLE} to a Canvas access token (it is never passed on the command line)")
    students = {s.student_id: s for s in roster}
    result = UploadResult()
    grade_data: dict[str, dict[str, str]] = {}
    for final in finals:
        user = canvas_user(students[final.student_id])
        if final.lms_grade is None:
            result.skipped.append(f"{final.student_id}: {final.reason}")
        elif not user:
            result.skipped.append(f"{final.student_id}: no canvas_user_id or sis_user_id in the roster")
        else:
            grade_data[user] = {"posted_grade": grade_text(final.lms_grade)}
            result.posted[final.student_id] = grade_text(final.lms_grade)
    try:
        target = Canvas(url, token).get_course(course).get_assignment(assignment)
        points = getattr(target, "points_possible", None)
        wanted = finals[0].lms_points if finals else 0.0
        if points is not None and abs(float(points) - wanted) > 1e-6:
            raise LmsError(f"Canvas assignment {assignment} ({getattr(target, 'name', '?')}) is out of {points:g} "
                           f"points but the grades are out of {wanted:g}; pass --points-possible {points:g} to scale "
                           "them, or change the assignment's points in Canvas")
        if dry_run or not grade_data:
            result.progress = "dry run: nothing posted" if dry_run else "nothing to post"
            return result
        progress = target.submissions_bulk_update(grade_data=grade_data)
        deadline = time.monotonic() + wait_s
        while getattr(progress, "workflow_state", "completed") in ("queued", "running"):
            if time.monotonic() > deadline:
                result.progress = f"still {progress.workflow_state} after {wait_s:g} s (Canvas progress {progress.id})"
                return result
            time.sleep(poll_s)
            progress = progress.query()
        state = getattr(progress, "workflow_state", "completed")
        if state == "failed":
            raise LmsError(f"Canvas could not apply the grades: {getattr(progress, 'message', '') or 'failed'}")
        result.progress = state
    except (InvalidAccessToken, Unauthorized):
        raise LmsError(f"{url}: Canvas refused the access token in {TOKEN_VARIABLE}") from None
    except CanvasException as exc:
        raise LmsError(f"{url}: Canvas refused the request ({type(exc).__name__}: {exc})") from None
    except RequestException as exc:
        raise LmsError(f"{url}: cannot reach Canvas ({type(exc).__name__})") from None
    return result
