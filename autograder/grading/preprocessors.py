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


class RestoreCellRoles(NbGraderPreprocessor):
    """Cell roles and points come from the release (the gradebook), never from the submission.

    A cell whose ``grade_id`` the release does not know (renamed, or a grade cell the student added)
    becomes an ordinary cell: it still runs, it is not graded. A known cell gets its role (grade,
    solution, task), lock and points back from the gradebook, whatever its metadata says; a test
    cell the student removed or renamed is put back by OverwriteCells (``add_missing_cells``).
    """

    enabled = Bool(True, help="Reset nbgrader cell metadata from the gradebook before grading.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> Tuple[NotebookNode, ResourcesDict]:
        if not self.enabled:
            return nb, resources
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {c.name: c for c in notebook.source_cells}
            points = {c.name: float(c.max_score) for c in notebook.grade_cells}
            points.update({c.name: float(c.max_score) for c in notebook.task_cells})
            solutions = {c.name for c in notebook.solution_cells}
            tasks = {c.name for c in notebook.task_cells}
        for index, cell in enumerate(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id")
            if grade_id not in sources:
                if meta.get("grade") or meta.get("solution") or meta.get("task") or meta.get("locked"):
                    self.log.warning("Cell %d has an nbgrader id the release does not know (%r): "
                                     "it runs, it is not graded", index, grade_id)
                del cell.metadata["nbgrader"]
                continue
            source = sources[grade_id]
            grade = grade_id in points and grade_id not in tasks
            meta.update(grade=grade, solution=grade_id in solutions, locked=bool(source.locked))
            if grade_id in tasks:
                meta["task"] = True
            else:
                meta.pop("task", None)
            if grade_id in points:
                meta["points"] = points[grade_id]
            else:
                meta.pop("points", None)
        return nb, resources


class SanitizeMarkdown(NbGraderPreprocessor):
    """Feedback shows students' markdown without script, event handlers or ``javascript:`` links.

    nbgrader's feedback template renders markdown cells unsanitised (outputs are sanitised by
    ``HTMLExporter.sanitize_html``); each markdown cell is rendered here and cleaned with bleach
    (an allow-list of formatting tags and attributes), so the template passes on clean HTML.
    """

    TAGS = ("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "div", "span", "pre", "code", "img",
            "table", "thead", "tbody", "tr", "th", "td", "sub", "sup", "del", "dl", "dt", "dd")

    enabled = Bool(True, help="Render and clean markdown cells before the feedback is written.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> Tuple[NotebookNode, ResourcesDict]:
        if self.enabled and cell.cell_type == "markdown" and "<" in cell.source + "](":
            import bleach
            from nbconvert.filters.markdown_mistune import markdown2html_mistune

            attributes = {**bleach.ALLOWED_ATTRIBUTES, "img": ["src", "alt", "title"], "*": ["class"]}
            cell.source = bleach.clean(markdown2html_mistune(cell.source), tags={*bleach.ALLOWED_TAGS, *self.TAGS},
                                       attributes=attributes, protocols=["http", "https", "mailto"])
        return cell, resources
