"""The grader's own app probe: started warm while the notebook runs, let go once the app is written.

Unconfined here (the demo grades the real apps through the sandbox); what is tested is the
warm start, the cold fallback and that a probe never outlives its task."""
import json
import os
import subprocess

import numpy as np
from PIL import Image

from autograder import judge
from autograder.grading import probes as probes_mod
from autograder.grading.probes import start_probes

KEY = "cnn_foundations.q10.app#hidden"
APP = '''import streamlit as st
st.title("Triage")
upload = st.file_uploader("Upload a chest X-ray", type=["png"])
if upload is not None:
    st.write("Pneumonia (probability 0.9)")
'''


def _task(tmp_path):
    folder = tmp_path / "data" / "heldout" / "chest_xray"
    folder.mkdir(parents=True)
    for n in range(3):
        Image.fromarray(np.full((16, 16), 40 * n, "uint8")).save(folder / f"x{n}.png")
    return {"profile": "smoke", "data_dir": str(tmp_path / "data"), "cell_timeout": 120,
            "sandbox": {"enabled": False, "env": dict(os.environ)}}


def _notebook_dir(tmp_path, app=APP):
    work = tmp_path / "autograded"
    work.mkdir()
    (work / "app.py").write_text(app)
    (work / "07-chest-xray.ipynb").write_text("{}")
    return work


def test_the_probe_starts_before_the_app_exists_and_runs_it_once_let_go(tmp_path):
    task = _task(tmp_path)
    with start_probes(task, [KEY, "cnn_foundations.q10.model"], tmp_path) as probes:
        assert [p.key for p in probes.probes] == [KEY]
        assert probes.probes[0].request["preload"] == ["keras"]
        proc = probes.probes[0].proc
        assert proc is not None and proc.poll() is None            # warm, waiting for the notebook
        trusted = probes.finish(_notebook_dir(tmp_path))
    evidence = json.loads((trusted / "cnn_foundations.q10.app__hidden.json").read_text())
    assert [u["label"] for u in evidence["uploads"]] == ["Pneumonia"] * 3
    assert evidence["uploads"][0]["probability"] == 0.9
    assert probes.cold_runs == 0 and proc.returncode == 0
    assert not probes.probes[0].run.exists()                          # the notebook's copy is gone


def test_a_warm_probe_that_died_is_replaced_by_a_cold_one(tmp_path, monkeypatch):
    real = judge.probes
    monkeypatch.setattr(judge, "probes", lambda keys, profile: {
        k: dict(r, preload=["no_such_module_here"]) for k, r in real(keys, profile).items()})
    with start_probes(_task(tmp_path), [KEY], tmp_path) as probes:
        probes.probes[0].proc.wait(timeout=60)                         # the preload failed
        trusted = probes.finish(_notebook_dir(tmp_path))
    evidence = json.loads((trusted / "cnn_foundations.q10.app__hidden.json").read_text())
    assert probes.cold_runs == 1 and len(evidence["uploads"]) == 3


def test_an_app_that_kills_the_probe_leaves_no_evidence(tmp_path):
    with start_probes(_task(tmp_path), [KEY], tmp_path) as probes:
        trusted = probes.finish(_notebook_dir(tmp_path, app="import os\nos._exit(3)\n"))
    assert probes.cold_runs == 1                                       # tried warm, then cold
    assert not (trusted / "cnn_foundations.q10.app__hidden.json").exists()


def test_an_app_that_does_not_finish_is_stopped_and_said_so(tmp_path, monkeypatch):
    task = dict(_task(tmp_path), cell_timeout=3)
    monkeypatch.setattr(probes_mod, "_start", _slow_start(probes_mod._start))
    with start_probes(task, [KEY], tmp_path) as probes:
        trusted = probes.finish(_notebook_dir(tmp_path))
    evidence = json.loads((trusted / "cnn_foundations.q10.app__hidden.json").read_text())
    assert evidence == {"problem": "the app did not finish in time"} and probes.cold_runs == 0


def _slow_start(start):
    """A warm probe that never answers (as an app stuck in a loop would)."""
    def slow(task, probe, *, warm):
        if not warm:
            return start(task, probe, warm=warm)
        return subprocess.Popen(["sleep", "60"], stdin=subprocess.PIPE, start_new_session=True)
    return slow


def test_a_probe_whose_notebook_did_not_end_is_stopped(tmp_path):
    with start_probes(_task(tmp_path), [KEY], tmp_path) as probes:
        proc = probes.probes[0].proc
    assert proc.poll() is not None and not probes.probes[0].run.exists()
    assert not (tmp_path / "probe").exists()


def test_a_symlink_the_notebook_left_is_copied_as_a_link_never_as_what_it_names(tmp_path):
    """Followed by the grader (outside any sandbox), a link to a private file would hand the app its
    content; as a link, it names a path the probe's sandbox does not have."""
    secret = tmp_path / "private_labels.csv"
    secret.write_text("x0.png,Pneumonia\n")
    app = APP.replace('    st.write("Pneumonia', '    import os\n    st.write("link" if os.path.islink("labels.csv") else "copy")\n'
                                                '    st.write("Pneumonia')
    work = _notebook_dir(tmp_path, app=app)
    (work / "labels.csv").symlink_to(secret)
    with start_probes(_task(tmp_path), [KEY], tmp_path) as probes:
        trusted = probes.finish(work)
    evidence = json.loads((trusted / "cnn_foundations.q10.app__hidden.json").read_text())
    assert [u["text"].split(" | ")[0] for u in evidence["uploads"]] == ["link"] * 3


def test_a_probe_runs_on_the_cpu_whatever_its_worker_gpu(tmp_path, monkeypatch):
    """The probe runs after its notebook, while the worker's next notebook has the worker's GPU: it
    gets neither the GPU's device files nor its share of the GPU's memory."""
    from autograder.grading import sandbox

    seen = {}
    monkeypatch.setattr(sandbox, "bwrap_command", lambda cmd, **kw: seen.update(kw) or ["true"])
    monkeypatch.setattr(probes_mod.subprocess, "Popen", lambda cmd, **kw: seen.setdefault("popen", cmd))
    task = _task(tmp_path)
    task["sandbox"] = {"enabled": True, "ro": [], "devices": ["/dev/nvidiactl", "/dev/nvidia0"],
                       "env": {"CUDA_VISIBLE_DEVICES": "0", "AUTOGRADER_DEVICE": "cuda:0",
                               "AUTOGRADER_GPU_MEMORY_MB": "8000", "AUTOGRADER_MIXED_PRECISION": "1"}}
    probe = probes_mod._Probe(KEY, judge.probes([KEY], "smoke")[KEY], tmp_path / "run", tmp_path / "out")
    probes_mod._start(task, probe, warm=True)
    assert seen["devices"] == []
    assert seen["env"]["CUDA_VISIBLE_DEVICES"] == "" and seen["env"]["AUTOGRADER_DEVICE"] == "cpu"
    assert "AUTOGRADER_GPU_MEMORY_MB" not in seen["env"] and seen["env"]["AUTOGRADER_MIXED_PRECISION"] == "0"
