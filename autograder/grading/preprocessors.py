"""nbgrader preprocessors the kit adds to the autograde pipeline."""
from __future__ import annotations

from typing import Tuple

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode


class ScoreByExceptions(NbGraderPreprocessor):
    """A grade cell passes unless it raises: stderr and returned values no longer change its score.

    nbgrader scores any stderr output of a grade cell as a failure, and reads a cell's last
    value as partial credit. Frameworks write harmless warnings and logs to stderr (TensorFlow
    at first use, deprecation warnings), and a check's return value is not a score. So stderr is
    kept visible as stdout and results are kept as displays; a failing check raises.
    """

    enabled = Bool(True, help="Demote stderr and results of grade cells before scoring.").tag(config=True)
    prefix = Unicode("[stderr] ", help="Text put before each demoted stderr line.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> Tuple[NotebookNode, ResourcesDict]:
        grade = cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)
        if self.enabled and grade and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = "".join(self.prefix + line for line in output.text.splitlines(True))
                elif output.output_type == "execute_result":
                    output.output_type = "display_data"
                    output.pop("execution_count", None)
        return cell, resources


class ShortenTracebacks(NbGraderPreprocessor):
    """In feedback, show a failed test as ``Error: message`` only: no hidden test source lines."""

    enabled = Bool(True, help="Replace tracebacks of grade cells by their last line.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> Tuple[NotebookNode, ResourcesDict]:
        grade = cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)
        if self.enabled and grade and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class DeduplicateCells(NbGraderPreprocessor):
    """Keep one cell per grade id when a student duplicated cells (the last one, as nbgrader does).

    nbgrader's own DeduplicateIds leaves an empty ``nbgrader`` dict on the duplicates, which makes
    OverwriteCells fail with ``KeyError: 'grade_id'``; this drops the metadata entirely.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> Tuple[NotebookNode, ResourcesDict]:
        seen: set[str] = set()
        for cell in reversed(nb.cells):
            meta = cell.get("metadata", {})
            grade_id = meta.get("nbgrader", {}).get("grade_id")
            if grade_id is None:
                if "nbgrader" in meta and not meta["nbgrader"]:
                    del meta["nbgrader"]   # an empty dict (left by other tools) breaks OverwriteCells too
                continue
            if grade_id in seen:
                self.log.warning("Cell with id '%s' exists multiple times; grading the last one", grade_id)
                del cell.metadata["nbgrader"]
            seen.add(grade_id)
        return nb, resources
