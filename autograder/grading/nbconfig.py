"""The nbgrader configuration shared by the course directory and the grading workers."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config import Config

# nbgrader runs `alembic` as a subprocess: make this environment's bin directory findable.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

ASSIGNMENTS = ("cnn_foundations", "cnn_architectures", "pooling_lenet_alexnet")
COURSE_ID = "cnn-architectures"


def course_config(c: Config | None = None, *, cell_timeout: int = 600) -> Config:
    """Settings for authoring (generate_assignment / generate_solution) and autograding."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                        ClearMarkScheme, ClearOutput, GetGrades,
                                        IncludeHeaderFooter, LimitOutput, LockCells, OverwriteCells,
                                        OverwriteKernelspec, SaveAutoGrades)

    from .exporters import FeedbackExporter
    from .preprocessors import (DeduplicateCells, RestoreCellRoles, SanitizeMarkdown, ScoreByExceptions,
                                ShortenTracebacks)
    from .sandbox import SandboxedExecute

    c = c if c is not None else Config()
    c.CourseDirectory.course_id = COURSE_ID
    # Notebooks build releases only from .ipynb files; data and models are served by the kit.
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                                "*.keras", "*.pt", "data", "app.py", "*.png"]
    c.CourseDirectory.solution_directory = "solutions"
    # Solutions are published as written (not executed): outputs depend on the machine and profile.
    c.GenerateSolution.preprocessors = [IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme]
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.SandboxedExecute.timeout = cell_timeout           # per cell: training cells need minutes, loops are cut
    c.SandboxedExecute.interrupt_on_timeout = True      # a looping cell is interrupted, the rest still runs
    c.LimitOutput.max_lines = 400              # huge outputs are cut, not stored
    c.LimitOutput.max_traceback = 60
    c.OverwriteCells.add_missing_cells = True  # a deleted test cell is put back and still runs
    # nbgrader's sanitize pipeline, with DeduplicateCells in place of its DeduplicateIds, and the
    # cells' roles and points taken from the gradebook (RestoreCellRoles) before OverwriteCells
    c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateCells, RestoreCellRoles, OverwriteKernelspec,
                                          OverwriteCells, CheckCellMetadata]
    # The student's kernel runs in the sandbox (SandboxKernelManager, configured per task by the worker)
    c.Autograde.autograde_preprocessors = [
        SandboxedExecute, ScoreByExceptions, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
    ]
    # Feedback shows each test's visible part and its message, never hidden test source.
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, SanitizeMarkdown,
                                        CSSHTMLHeaderPreprocessor]
    c.GenerateFeedback.exporter_class = FeedbackExporter    # its templates compiled once per worker
    c.HTMLExporter.sanitize_html = True        # student markdown and outputs: no script, no event handlers
    return c
