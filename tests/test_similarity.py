"""The similarity report on a corpus of honest answers and planted copies, in real nbgrader notebooks.

``tests/similarity_corpus/<assignment>/<notebook>/<grade_id>/<student>.py`` holds what each student
wrote in that answer cell: six honest answers written independently (different structure, APIs and
style) and four planted copies of one of them (see ``PLANTED``). The notebooks handed in are the
release notebooks with those cells filled in; nothing is executed.
"""
from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder import cli
from autograder.reports.similarity import compare, extract, render, score, write_similarity
from autograder.reports.similarity.normalise import as_written, canonical, template_statements
from autograder.reports.similarity.score import fingerprint

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).with_name("similarity_corpus")
DISGUISES = {"gus": "renamed", "hana": "reordered", "ivan": "re-commented", "jo": "renamed, reordered, re-commented"}
PLANTED = {("cnn_foundations", "q7"): "ben", ("cnn_foundations", "q8"): "dara",
           ("pooling_lenet_alexnet", "q8"): "chen"}   # whose answer the four copies start from


def fill(release_nb: Path, sources: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with the answer cells of *sources* (grade_id -> code) filled in."""
    nb = nbformat.read(release_nb, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    return nb


def hand_in(folder: Path, student: str, assignment: str, notebook: str, sources: dict[str, str]) -> None:
    (folder / student).mkdir(parents=True, exist_ok=True)
    nbformat.write(fill(REPO / "release" / assignment / f"{notebook}.ipynb", sources),
                   folder / student / f"{notebook}.ipynb")


def corpus_submissions(assignment: str, folder: Path) -> Path:
    for cell_dir in sorted((CORPUS / assignment).glob("*/*")):
        notebook, grade_id = cell_dir.parent.name, cell_dir.name
        for path in sorted(cell_dir.glob("*.py")):
            hand_in(folder, path.stem, assignment, notebook, {grade_id: path.read_text().rstrip("\n")})
        for blank in ("blank_1", "blank_2"):                       # the untouched release, twice
            hand_in(folder, blank, assignment, notebook, {})
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("similarity")
    out = {}
    for assignment in ("cnn_foundations", "pooling_lenet_alexnet"):
        subs = corpus_submissions(assignment, root / assignment / "submissions")
        out[assignment] = write_similarity(subs, assignment, root / assignment / "report",
                                           release_dir=REPO / "release" / assignment)
        out[assignment]["submissions"] = subs
    return out


@pytest.mark.parametrize("assignment,question", sorted(PLANTED))
def test_planted_copies_rank_above_every_honest_pair(reports, assignment, question):
    pairs = pd.read_csv(reports[assignment]["similarity_csv"])
    pairs = pairs[pairs.question == question]
    cluster = set(DISGUISES) | {PLANTED[assignment, question]}
    planted = pairs.student_a.isin(cluster) & pairs.student_b.isin(cluster)
    assert planted.sum() == 10 and len(pairs) == 45          # 10 answers compared, the blank ones not
    lowest_copy = pairs[planted].sort_values("similarity").iloc[0]
    highest_honest = pairs[~planted].iloc[0]
    assert lowest_copy.similarity > highest_honest.similarity, (lowest_copy.to_dict(), highest_honest.to_dict())
    assert set(pairs.head(10).index) == set(pairs[planted].index)     # the ten planted pairs are the top ten
    assert (pairs.method == "ast").all()
    source = PLANTED[assignment, question]
    against_source = {(r.student_b if r.student_a == source else r.student_a): r.similarity
                      for r in pairs[planted].itertuples() if source in (r.student_a, r.student_b)}
    assert against_source["gus"] == against_source["ivan"] == 1.0   # names and comments are erased entirely


def test_canonical_order_scores_a_reordered_copy_higher_than_the_code_as_written():
    folder = CORPUS / "cnn_foundations/05-pytorch-mnist/q8_code"
    source, reordered = ((folder / f"{s}.py").read_text() for s in ("dara", "hana"))

    def similarity(form):
        a, b = fingerprint([form(source)]).hashes, fingerprint([form(reordered)]).hashes
        return (len(a & b) / len(a) + len(a & b) / len(b)) / 2
    assert similarity(canonical) > similarity(as_written)


def test_blank_submissions_and_the_template_share_nothing(reports):
    html = reports["cnn_foundations"]["similarity_html"].read_text()
    pairs = pd.read_csv(reports["cnn_foundations"]["similarity_csv"])
    assert not ({"blank_1", "blank_2"} & (set(pairs.student_a) | set(pairs.student_b)))
    assert "2 with nothing beyond the template" in html
    question = next(q for q in extract.questions(REPO / "release" / "cnn_foundations") if q.question == "q7")
    result = compare(question, {"blank_1": dict(question.cells), "blank_2": dict(question.cells)})
    assert result.unanswered == ["blank_1", "blank_2"] and result.pairs == []


def test_keeping_or_deleting_the_template_lines_changes_no_score():
    question = next(q for q in extract.questions(REPO / "release" / "cnn_foundations") if q.question == "q7")
    template = {line.strip() for line in question.cells["q7_code"].splitlines() if line.strip()}
    honest = {p.stem: p.read_text() for p in (CORPUS / "cnn_foundations/04-keras-cifar10/q7_code").glob("*.py")}
    bare = {s: "\n".join(line for line in code.splitlines() if line.strip() not in template)
            for s, code in honest.items()}
    kept = {(p.a, p.b): p.similarity for p in compare(question, {s: {"q7_code": c} for s, c in honest.items()}).pairs}
    cut = {(p.a, p.b): p.similarity for p in compare(question, {s: {"q7_code": c} for s, c in bare.items()}).pairs}
    assert kept == cut and len(kept) == 45


def test_code_common_to_almost_every_answer_is_ignored():
    question = next(q for q in extract.questions(REPO / "release" / "cnn_foundations") if q.question == "q8")
    helper = '''
def plot_curve(values, title):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(values) + 1), values, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.set_title(title)
    fig.tight_layout()
    plt.show()
'''   # e.g. given in the task text: every student pastes it
    answers = {p.stem: p.read_text() for p in (CORPUS / "cnn_foundations/05-pytorch-mnist/q8_code").glob("*.py")}
    honest = [s for s in answers if s not in DISGUISES and s != "dara"]
    plain = compare(question, {s: {"q8_code": c} for s, c in answers.items()})
    pasted = compare(question, {s: {"q8_code": c + helper} for s, c in answers.items()})
    pasted_alone = fingerprint([canonical(helper)]).hashes
    left = max(len(fp.hashes & pasted_alone) for fp in pasted.fingerprints.values())
    assert len(pasted_alone) > 20 and left <= 2 * (score.WINDOW - 1)   # only windows across its two ends

    def top_honest(result):
        return max(p.similarity for p in result.pairs if p.a in honest and p.b in honest)
    assert abs(top_honest(pasted) - top_honest(plain)) < 0.03


def test_independent_statements_reordered_give_the_same_text_dependent_ones_do_not():
    a = canonical("x = load('a')\ny = load('b')\nz = x + y\nmodel.add(x)\nmodel.add(y)\n")
    b = canonical("y = load('b')  # first\nx = load('a')\nz = x + y\nmodel.add(x)\nmodel.add(y)\n")
    c = canonical("x = load('a')\ny = load('b')\nz = x + y\nmodel.add(y)\nmodel.add(x)\n")
    assert a.text == b.text != c.text          # the order of the layers a model gets is part of the answer
    renamed = canonical("q = load('b')\np = load('a')\nr = p + q\nnet.add(p)\nnet.add(q)\n")
    assert fingerprint([a]).filtered_code == fingerprint([renamed]).filtered_code
    assert canonical("f(units=3, activation='relu')").text == canonical("f(activation='relu', units=3)").text


def test_template_statements_are_dropped_from_the_answer():
    release = "import keras\nfrom keras import layers\n\n# YOUR CODE HERE\nraise NotImplementedError()"
    answer = canonical("import keras\nfrom keras import layers\nmodel = keras.Sequential()\n",
                       template_statements(release))
    assert answer.text.strip() == "model = keras.Sequential()"


def test_html_escapes_student_code_and_names(tmp_path):
    code = (CORPUS / "pooling_lenet_alexnet/02-lenet5/q8_code/chen.py").read_text()
    code += "\nprint(\"</span></div><script>alert('x')</script>\")\n"
    subs = tmp_path / "submissions"
    for student in ("<b onmouseover=alert(1)>eve", "mallory"):
        hand_in(subs, student, "pooling_lenet_alexnet", "02-lenet5", {"q8_code": code})
    paths = write_similarity(subs, "pooling_lenet_alexnet", tmp_path / "out",
                             release_dir=REPO / "release" / "pooling_lenet_alexnet")
    html = paths["similarity_html"].read_text()
    assert "<script" not in html and "onmouseover=alert" not in html.replace("&lt;b onmouseover=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(" in html and "&lt;b onmouseover=alert(1)&gt;eve" in html
    assert "not a verdict of misconduct" in html and html.count('class="line shared"') > 40


def test_csv_parses_with_pandas_one_row_per_pair(reports):
    pairs = pd.read_csv(reports["cnn_foundations"]["similarity_csv"])
    assert list(pairs.columns) == render.COLUMNS
    assert pairs.similarity.between(0, 1).all() and pairs.a_in_b.between(0, 1).all()
    for _, rows in pairs.groupby("question"):
        students = set(rows.student_a) | set(rows.student_b)
        assert len(rows) == len(list(itertools.combinations(students, 2)))
        assert rows.similarity.is_monotonic_decreasing


def test_short_answers_are_listed_not_compared(tmp_path):
    subs = tmp_path / "submissions"
    answers = {"ann": "    return (n + 2 * p - f) // s + 1",
               "bob": "    out = (n - f + 2 * p) // s\n    return out + 1",
               "cy": "    import math\n    return math.floor((n + 2 * p - f) / s) + 1"}
    for student, body in answers.items():
        hand_in(subs, student, "cnn_foundations", "02-conv-arithmetic",
                {"q2_code": f"def conv_output_size(n: int, f: int, p: int, s: int) -> int:\n{body}"})
    paths = write_similarity(subs, "cnn_foundations", tmp_path / "out",
                             release_dir=REPO / "release" / "cnn_foundations")
    assert pd.read_csv(paths["similarity_csv"]).empty
    html = paths["similarity_html"].read_text()
    assert "3 too short to compare" in html and "ann, bob, cy" in html


def test_code_that_does_not_parse_is_compared_as_written(tmp_path):
    code = (CORPUS / "cnn_foundations/05-pytorch-mnist/q8_code/amira.py").read_text()
    subs = tmp_path / "submissions"
    hand_in(subs, "ann", "cnn_foundations", "05-pytorch-mnist", {"q8_code": code + "\nprint(oops"})
    hand_in(subs, "bob", "cnn_foundations", "05-pytorch-mnist", {"q8_code": code.replace("model", "net") + "\n%time 1"})
    pairs = pd.read_csv(write_similarity(subs, "cnn_foundations", tmp_path / "out",
                                         release_dir=REPO / "release" / "cnn_foundations")["similarity_csv"])
    assert pairs.method.tolist() == ["tokens"] and pairs.similarity[0] > 0.9


def test_cli_writes_the_report_and_prints_where(reports, tmp_path, capsys):
    subs = reports["pooling_lenet_alexnet"]["submissions"]
    assert cli.main(["similarity", str(subs), "--assignment", "pooling_lenet_alexnet", "--out", str(tmp_path)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("similarity report (evidence for a human to review, not a verdict): ")
    assert str(tmp_path / "similarity.html") in line and (tmp_path / "similarity.csv").is_file()
    assert cli.main(["similarity", str(subs), "--assignment", "no_such_assignment", "--out", str(tmp_path)]) == 2


def test_the_demo_writes_and_prints_the_report_for_its_students(tmp_path):
    from autograder import demo
    from autograder.demo import submissions
    assignment = "pooling_lenet_alexnet"
    submissions.write_all(REPO / "source" / assignment, REPO / "release" / assignment, tmp_path / "submissions")
    moved = tmp_path / "other_batch"            # students graded in another batch (a shorter cell time limit)
    moved.mkdir()
    shutil.move(str(tmp_path / "submissions" / "lenet_wrong_filters"), moved / "lenet_wrong_filters")
    line = demo.similarity_report(assignment, tmp_path, [tmp_path / "submissions", moved])
    assert str(tmp_path / "similarity.html") in line
    pairs = pd.read_csv(tmp_path / "similarity.csv")
    lenet = pairs[pairs.question == "q8"]
    assert {"reference", "lenet_wrong_filters"} <= set(lenet.student_a) | set(lenet.student_b)


def test_grade_writes_the_report_after_the_grades(reports, tmp_path, monkeypatch, capsys):
    import autograder.reports
    from autograder.grading import runner
    graded = []
    monkeypatch.setattr(runner, "grade", lambda opts: graded.append(opts.submissions) or [])
    monkeypatch.setattr(autograder.reports, "write_reports", lambda *a, **k: {})
    monkeypatch.setattr(autograder.reports, "grade_table", lambda results: "(grade table)")
    subs = reports["cnn_foundations"]["submissions"]
    assert cli.main(["grade", str(subs), "--assignment", "cnn_foundations", "--out", str(tmp_path)]) == 0
    assert graded == [subs]
    assert f"not a verdict): {tmp_path / 'similarity.html'}" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "similarity.csv")) == 2 * 45
