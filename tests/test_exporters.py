"""The feedback exporter compiles nbgrader's feedback templates once per process, and renders
exactly what nbconvert's HTML exporter renders (sanitised as configured)."""
import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter

from autograder.grading import exporters
from autograder.grading.nbconfig import course_config

NB = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Answer\n<script>alert('x')</script>"),
                                     nbformat.v4.new_code_cell("1 + 1")])


def _html(cls):
    c = course_config()
    c.HTMLExporter.template_name = "classic"
    return cls(config=c).from_notebook_node(NB)[0]


def test_templates_are_compiled_once_and_the_page_is_the_same(monkeypatch):
    exporters.COMPILED.clear()
    compiled = []
    real = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, *a, **kw: compiled.append(a[1] if len(a) > 1 else "") or real(self, *a, **kw))
    first = _html(exporters.FeedbackExporter)
    n_first = len(compiled)
    second = _html(exporters.FeedbackExporter)
    assert n_first > 0 and len(compiled) == n_first            # the second page compiled nothing
    assert first == second == _html(HTMLExporter)
    assert "<script>alert" not in first                          # sanitize_html still applies


def test_the_feedback_step_uses_it():
    assert course_config().GenerateFeedback.exporter_class is exporters.FeedbackExporter
