"""nbgrader preprocessors the kit adds to the autograde pipeline."""
from __future__ import annotations

from typing import Tuple

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode


class DemoteStderr(NbGraderPreprocessor):
    """Keep stderr of grade cells visible, but as stdout, so it cannot zero the cell.

    nbgrader scores any stderr output of a grade cell as a failure. Frameworks write
    harmless warnings and logs there (TensorFlow at first use, deprecation warnings), so
    the kit decides pass/fail by exceptions only: a check that fails raises.
    """

    enabled = Bool(True, help="Demote stderr of grade cells to stdout before scoring.").tag(config=True)
    prefix = Unicode("[stderr] ", help="Text put before each demoted stderr line.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> Tuple[NotebookNode, ResourcesDict]:
        grade = cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)
        if self.enabled and grade and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = "".join(self.prefix + line for line in output.text.splitlines(True))
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
