"""The benchmark's measures: CPU time counts every process that worked during a step (kernels in
their sandboxes included), so a cost per submission can be read on a busy host, where wall time is
noisy."""
import subprocess
import sys

from autograder import benchmark

BURN = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"


def test_cpu_time_of_a_step_includes_the_processes_it_started():
    with benchmark.measured() as used:
        subprocess.run([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BURN!r}])"],
                       check=True)
    assert used.cpu_s >= 0.55                 # the grandchild's 0.6 s of CPU
    assert used.wall_s >= 0.55 and used.stolen_s >= 0


def test_a_step_that_only_waits_costs_no_cpu():
    with benchmark.measured() as used:
        subprocess.run(["sleep", "0.5"], check=True)
    assert used.wall_s >= 0.5 and used.cpu_s < 0.2


def test_scaling_takes_the_medians_of_its_rounds(tmp_path, monkeypatch, capsys):
    """Slope, intercept, overheads and the 2-worker ratio from the rounds' medians: one slow round
    (a busy host) moves none of them."""
    walls = iter([(50, 130, 80, 40), (51, 131, 78, 41), (90, 200, 150, 70)])    # the last round: a busy host

    def fake_round(out, assignment, copies, one, many):
        w1, wn, w2, bare = next(walls)
        use = lambda wall: benchmark.Usage(wall_s=wall, cpu_s=1.5 * wall)   # noqa: E731
        results = [{"elapsed_s": wn / 3 - 1, "phases": {"execute": 30.0}} for _ in range(3)]
        return benchmark.Round(u1=use(w1), ub=use(bare), un=use(wn), u2=use(w2), r1={"setup_s": 2.0, "reports_s": 0.5},
                               rn={"setup_s": 2.0, "reports_s": 0.6}, bare=bare, without_app=bare, results=results,
                               notebooks=1, tasks_1_s=w1 - 3, tasks_n_s=wn - 3)

    monkeypatch.setattr(benchmark, "_copies", lambda out, assignment, n: tmp_path)
    monkeypatch.setattr(benchmark, "_scaling_round", fake_round)
    row = benchmark.scaling(tmp_path, "pooling_lenet_alexnet", 3, repeats=3)
    assert row["repeats"] == 3 and len(row["rounds"]) == 3
    assert (row["graded_1_s"], row["graded_3_s"], row["bare_nbclient_s"]) == (51, 131, 41)
    assert row["rounds"][2]["overhead_per_submission_s"] == -15.0
    assert row["per_submission_s"] == 40.0 and row["overhead_per_submission_s"] == -1.0
    assert row["setup_s"] == 11.0 and row["outside_tasks_1_s"] == 3.0
    assert row["two_worker_ratio"] == round(80 / 130, 2) and row["busy_cpus_1_worker"] == 1.5
    printed = capsys.readouterr().out
    assert "medians of 3 rounds" in printed and "overhead -1.0 s per submission" in printed
    assert (tmp_path / "scaling.json").is_file()


def test_the_time_tasks_ran_counts_overlapping_tasks_once():
    tasks = [{"finished_at": 10.0, "elapsed_s": 4.0}, {"finished_at": 12.0, "elapsed_s": 5.0},   # 6..12
             {"finished_at": 20.0, "elapsed_s": 2.0}, {"elapsed_s": 1.5}]                      # 18..20, unknown
    assert benchmark.busy_s(tasks) == 6.0 + 2.0 + 1.5
