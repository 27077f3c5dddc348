"""The LMS round trip: submissions in from Canvas or Moodle, final grades back out.

``roster`` maps the kit's student ids to LMS identities; ``canvas`` and ``moodle`` read each LMS's
download names and write its grade-import CSV; ``intake`` turns a download into the per-student
folders ``grade`` reads, with a report of late, superseded, unknown and missing submissions;
``export`` computes the final grades (auto + hand-graded) and writes them for the LMS;
``upload`` posts them to Canvas through its REST API (canvasapi).
"""
from __future__ import annotations

LMS_NAMES = ("canvas", "moodle")


class LmsError(ValueError):
    """Input the LMS round trip cannot use; the message names the file and the problem."""
