"""The long-lived grading workers: one task at a time over a pipe, each task held to its limits.

A stand-in worker speaks the real protocol (a JSON line per task in, a reply line out), so these run
in a second: what a task does is read from its task file."""
import json
import os
import sys
import time

import psutil

from autograder.grading import limits

FAKE = r'''
import json, os, subprocess, sys, time
print("not a reply: start-up chatter", flush=True)          # ignored by the runner
held = []                                                    # what the worker keeps between tasks
for line in sys.stdin:
    req = json.loads(line)
    task = json.loads(open(req["task"]).read())
    keep = []
    if "execute_s" in task:                                   # "the notebook", then the word that it has run
        open(task["times"], "a").write(f"{req['task']} start {time.time()}\n"); time.sleep(task["execute_s"])
        open(task["times"], "a").write(f"{req['task']} end {time.time()}\n")
        print(json.dumps({"task": req["task"], "stage": "executed"}), flush=True)
    if task.get("hold_mb"):
        held.append(bytearray(task["hold_mb"] * 2**20)); held[-1][::4096] = b"x" * len(held[-1][::4096])
    if task.get("sleep"):                                     # after holding: the runner samples meanwhile
        time.sleep(task["sleep"])
    if task.get("allocate_mb"):
        hog = bytearray(task["allocate_mb"] * 2**20); time.sleep(5)
    if task.get("crash"):
        os._exit(3)
    for what in task.get("children", []):                    # a leftover kernel, or one started ahead
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        open(task["pids"], "a").write(f"{what} {child.pid}\n")
        if what == "ahead":
            keep.append(child.pid)
    reply = {"task": req["task"], "ok": not task.get("fail"), "keep": keep, "pid": os.getpid()}
    if task.get("fail"):
        reply["error"] = "ValueError: broken gradebook"
    print(json.dumps(reply), flush=True)
'''


def _worker(tmp_path, **kw):
    return limits.Worker([sys.executable, "-c", FAKE], env=dict(os.environ), log=tmp_path / "worker.log", **kw)


def _task(tmp_path, name, **spec):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(spec))
    return path


def _run(worker, task, **kw):
    return worker.run(task, log=task.with_suffix(".log"), wall_s=kw.pop("wall_s", 30), memory_mb=kw.pop("memory_mb", 4096))


def test_one_process_grades_task_after_task(tmp_path):
    worker = _worker(tmp_path)
    try:
        outcomes = [_run(worker, _task(tmp_path, f"t{n}")) for n in range(3)]
        assert [o.status for o in outcomes] == ["ok"] * 3
        assert worker.started == 1                      # imports paid once, not once per task
    finally:
        worker.stop()


def test_a_task_over_its_time_limit_is_stopped_and_a_fresh_worker_takes_the_next(tmp_path):
    worker = _worker(tmp_path)
    try:
        slow = _run(worker, _task(tmp_path, "slow", sleep=30), wall_s=1)
        assert slow.status == "timeout" and "time limit of one notebook" in slow.reason
        assert slow.elapsed_s < 10
        assert _run(worker, _task(tmp_path, "next")).status == "ok"
        assert worker.started == 2
    finally:
        worker.stop()


def test_a_task_over_its_memory_cap_is_stopped(tmp_path):
    worker = _worker(tmp_path)
    try:
        hog = _run(worker, _task(tmp_path, "hog", allocate_mb=400), memory_mb=200)
        assert hog.status == "memory" and "limit 200 MB" in hog.reason
        assert _run(worker, _task(tmp_path, "next")).status == "ok"
    finally:
        worker.stop()


def test_what_the_worker_held_before_a_task_is_not_charged_to_it(tmp_path):
    worker = _worker(tmp_path)
    try:
        assert _run(worker, _task(tmp_path, "grows", hold_mb=300), memory_mb=4096).status == "ok"
        after = _run(worker, _task(tmp_path, "after", sleep=1.5), memory_mb=200)
        assert after.status == "ok" and after.peak_rss_mb < 100
        grows_again = _run(worker, _task(tmp_path, "again", hold_mb=300, sleep=1.5), memory_mb=200)
        assert grows_again.status == "memory"       # growth during the task counts
        assert worker.started == 2
    finally:
        worker.stop()


def test_a_crashed_or_failing_worker_fails_only_its_task(tmp_path):
    worker = _worker(tmp_path)
    try:
        crash = _run(worker, _task(tmp_path, "crash", crash=True))
        assert crash.status == "failed" and "exited with code 3" in crash.reason
        fail = _run(worker, _task(tmp_path, "fail", fail=True))
        assert fail.status == "failed" and "broken gradebook" in fail.reason
        assert _run(worker, _task(tmp_path, "next")).status == "ok"
    finally:
        worker.stop()


def test_no_kernel_outlives_its_task_but_the_next_tasks_kernel_started_ahead(tmp_path):
    worker = _worker(tmp_path)
    pids = tmp_path / "pids"
    try:
        assert _run(worker, _task(tmp_path, "t", children=["left", "ahead"], pids=str(pids))).status == "ok"
        started = dict(line.split() for line in pids.read_text().splitlines())
        time.sleep(0.2)
        assert not psutil.pid_exists(int(started["left"])) or \
            psutil.Process(int(started["left"])).status() == psutil.STATUS_ZOMBIE
        assert psutil.Process(int(started["ahead"])).status() != psutil.STATUS_ZOMBIE   # alive, not killed
    finally:
        worker.stop()
    time.sleep(0.2)
    gone = not psutil.pid_exists(int(started["ahead"]))
    assert gone or psutil.Process(int(started["ahead"])).status() == psutil.STATUS_ZOMBIE


def test_a_pool_runs_at_most_its_share_of_notebooks_at_once_and_overlaps_the_rest(tmp_path):
    """Two processes, one notebook at a time: each process's work after its notebook (here 1 s of
    sleep) overlaps the other's notebook; a task that crashes before its notebook has run gives the
    gate back too."""
    from concurrent.futures import ThreadPoolExecutor

    times = tmp_path / "times"
    pool = limits.Pool(2, [sys.executable, "-c", FAKE], env=dict(os.environ), logs=tmp_path, workers=1)
    try:
        crashed = pool.run(0, _task(tmp_path, "crash", crash=True), log=tmp_path / "c.log", wall_s=30, memory_mb=4096)
        assert crashed.status == "failed"
        assert pool.gates[0].acquire(timeout=5)            # given back (a leak would stall the worker for good)
        pool.gates[0].release()
        tasks = [_task(tmp_path, f"t{n}", execute_s=0.6, sleep=1.0, times=str(times)) for n in range(4)]
        started = time.monotonic()
        with ThreadPoolExecutor(2) as threads:
            outcomes = list(threads.map(lambda n: [pool.run(n % 2, tasks[k], log=tmp_path / f"{k}.log", wall_s=30,
                                                            memory_mb=4096) for k in (n, n + 2)], range(2)))
        wall = time.monotonic() - started
    finally:
        pool.close()
    assert [o.status for pair in outcomes for o in pair] == ["ok"] * 4
    spans: dict[str, list[float]] = {}
    for line in times.read_text().splitlines():
        name, _, at = line.split()
        spans.setdefault(name, []).append(float(at))
    ordered = sorted(spans.values())
    assert len(ordered) == 4 and all(b[0] >= a[1] - 0.01 for a, b in zip(ordered, ordered[1:]))   # never two at once
    # serially 4 x 1.6 s; overlapped about 3.8 s (a process's second notebook waits for its first task's end)
    assert wall < 5.5


def test_a_worker_is_replaced_after_its_share_of_tasks(tmp_path):
    worker = _worker(tmp_path, max_tasks=2)
    try:
        for n in range(5):
            assert _run(worker, _task(tmp_path, f"t{n}")).status == "ok"
        assert worker.started == 3
    finally:
        worker.stop()


SERVE = r'''
import json, os, subprocess, sys
from pathlib import Path
from autograder.grading import worker

def run(task, ahead=None):          # stands in for grading: what a kernel or a probe would see
    child = subprocess.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"],
                           capture_output=True, text=True, timeout=10)
    print("task output", task["n"])
    return {"stdin_seen": child.stdout.strip(), "evidence": os.environ.get("AUTOGRADER_EVIDENCE"),
            "offline": os.environ.get("AUTOGRADER_OFFLINE"), "fds": len(os.listdir("/proc/self/fd"))}

worker.warm_up, worker.run = (lambda: None), run
sys.exit(worker.main(["--serve"]))
'''


def test_the_real_serve_loop_keeps_tasks_apart(tmp_path):
    """The worker's own loop: a child process never sees the request pipe on its stdin, each task's
    output goes to that task's log, an unconfined task's kernel settings last for that task only
    (and never remove the worker's own), and no descriptor leaks from task to task."""
    tasks = []
    for n in range(3):
        box = {"enabled": n != 1, "env": {"AUTOGRADER_EVIDENCE": f"/evidence/{n}"}}
        tasks.append(_task(tmp_path, f"t{n}", n=n, sandbox=box, result_path=str(tmp_path / f"r{n}.json")))
    env = dict(os.environ, AUTOGRADER_OFFLINE="1", PYTHONPATH=str(limits.Path(__file__).resolve().parents[1]))
    worker = limits.Worker([sys.executable, "-c", SERVE], env=env, log=tmp_path / "worker.log")
    try:
        assert [_run(worker, t).status for t in tasks] == ["ok"] * 3
    finally:
        worker.stop()
    results = [json.loads((tmp_path / f"r{n}.json").read_text()) for n in range(3)]
    assert [r["stdin_seen"] for r in results] == ["''"] * 3          # /dev/null, not the runner's pipe
    assert [r["evidence"] for r in results] == [None, "/evidence/1", None]
    assert [r["offline"] for r in results] == ["1"] * 3
    assert results[0]["fds"] == results[2]["fds"]
    assert [t.with_suffix(".log").read_text().strip() for t in tasks] == [f"task output {n}" for n in range(3)]
