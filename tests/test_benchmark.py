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
