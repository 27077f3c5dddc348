"""The class-wide progress bar and the summary line of a grading run."""
from autograder.grading import progress


def _result(student, notebook, status="graded", elapsed=10.0):
    return {"student": student, "notebook": notebook, "status": status, "elapsed_s": elapsed}


def test_the_summary_counts_failures_by_reason_and_names_the_slowest():
    results = [_result("ann", "a", elapsed=12), _result("bob", "a", "timeout", 600), _result("bob", "b", "memory", 30),
               _result("cy", "a", "missing", 0), _result("cy", "b", elapsed=95)]
    line = progress.summary(results, 700.4)
    assert line.startswith("5 notebook(s) of 3 student(s) in 700 s: 2 graded;")
    assert "not graded or stopped: 1 memory, 1 missing, 1 timeout;" in line
    assert line.endswith("slowest: bob/a 600 s, cy/b 95 s, bob/b 30 s")


def test_the_bar_counts_running_done_and_failed_and_lines_still_reach_the_log(capsys):
    logged = []
    bar = progress.Progress(3, logged.append, enabled=True)
    bar.started_one()
    bar.started_one()
    bar.finished(_result("ann", "a"), ran=True)
    bar.finished(_result("bob", "a", "timeout", 600), ran=True)
    bar.finished(_result("cy", "a", "missing", 0), ran=False)   # never ran: not counted as running
    assert (bar.done, bar.running, bar.failed) == (3, 0, 1)
    bar.log("[  1/3] ann a 3/3")
    assert "[  1/3] ann a 3/3" in capsys.readouterr().out
    line = bar.close([_result("ann", "a"), _result("bob", "a", "timeout", 600)])
    assert logged == [line] and "1 timeout" in line


def test_off_a_terminal_there_is_no_bar():
    logged = []
    bar = progress.Progress(2, logged.append, enabled=False)
    bar.log("one line")
    assert bar.bar is None and logged == ["one line"]
