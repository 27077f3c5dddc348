"""`./kit doctor`: what it finds on this machine, and its verdicts on machines it is not (GPU ones)."""
import json

import pytest

from autograder import doctor
from autograder.data import cache, manifest

CPU_TORCH = {"version": "2.14.1", "cuda_build": "13.0", "devices": [{"device": "cpu", "name": "CPU", "ok": True, "ms": 1.0}]}
CPU_TF = {"version": "2.21.0", "cuda_build": False, "devices": [{"device": "/device:CPU:0", "name": "CPU", "ok": True, "ms": 2.0}]}


@pytest.fixture
def empty_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "doctor-cache"))


def test_this_machine_is_ready_for_smoke_and_the_real_torch_probe_runs():
    found = doctor.probe("torch")
    assert found["devices"][0] == dict(found["devices"][0], device="cpu", ok=True)
    report, code = doctor.run(profile="smoke", found={"torch": found, "tensorflow": CPU_TF}, gpus=[])
    text = "\n".join(report.lines)
    assert code == 0 and "smoke: READY" in text and "sandbox: bubblewrap works" in text
    assert "EfficientNet-Lite0 ImageNet weights" in text


def test_full_needs_its_downloads_and_says_which(empty_cache):
    report, code = doctor.run(profile="full", found={"torch": CPU_TORCH, "tensorflow": CPU_TF}, gpus=[])
    text = "\n".join(report.lines)
    assert code == 1 and "full: NOT READY" in text and "missing  xray_triage" in text
    assert f"{len(manifest.REGISTRY)} of the downloads above not ready" in text and "--pin" in text
    for entry in manifest.REGISTRY.values():               # everything in the cache, pins included
        (cache.cache_dir() / entry.filename).write_bytes(b"x")
    pins = {n: "sha256:" + "0" * 64 for n, e in manifest.REGISTRY.items() if e.known_hash is None}
    cache.pins_path().write_text(json.dumps(pins))
    report, code = doctor.run(profile="full", found={"torch": CPU_TORCH, "tensorflow": CPU_TF}, gpus=[])
    assert "unpinned" not in "\n".join(report.lines), "\n".join(report.lines)
    assert code == 0 and "full: READY" in report.lines[-1]
    report, code = doctor.run(profile="full", verify=True, found={"torch": CPU_TORCH, "tensorflow": CPU_TF}, gpus=[])
    assert code == 1 and "corrupt" in "\n".join(report.lines)     # the hashes do not match those bytes


def test_a_gpu_machine_with_the_cpu_build_of_tensorflow_is_not_ready_for_full(empty_cache, monkeypatch):
    monkeypatch.setattr(doctor, "data", lambda report, verify: None)
    gpu_torch = dict(CPU_TORCH, devices=CPU_TORCH["devices"] + [{"device": "cuda:0", "name": "NVIDIA A100", "ok": True, "ms": 3.0}])
    report, code = doctor.run(profile="full", found={"torch": gpu_torch, "tensorflow": CPU_TF}, gpus=["0"])
    text = "\n".join(report.lines)
    assert code == 1 and "tensorflow[and-cuda]" in text and "smoke: READY" in text
    assert "1 worker(s)" in text                                  # one worker per GPU
    gpu_tf = dict(CPU_TF, cuda_build=True, devices=CPU_TF["devices"] + [{"device": "/device:GPU:0", "name": "GPU", "ok": True, "ms": 4.0}])
    report, code = doctor.run(profile="full", found={"torch": gpu_torch, "tensorflow": gpu_tf}, gpus=["0"])
    assert code == 0 and "full: READY (on the GPU)" in report.lines[-1]
    broken = dict(gpu_tf, devices=[{"device": "/device:GPU:0", "ok": False, "error": "ResourceExhaustedError: OOM"}])
    report, code = doctor.run(profile="smoke", found={"torch": gpu_torch, "tensorflow": broken}, gpus=["0"])
    assert code == 1 and "tensorflow fails on /device:GPU:0" in report.lines[-2]
    report, code = doctor.run(profile="smoke", found={"torch": {"error": "torch failed: ImportError"}, "tensorflow": CPU_TF}, gpus=[])
    assert code == 1 and "torch does not run" in report.lines[-2]


def test_gpu_check_trains_for_real_on_the_cpu_and_names_what_failed(monkeypatch):
    lines, code = doctor.gpu_check(cpu=True)
    assert code == 0 and lines[-1] == "every device trains"
    assert any(line.startswith("CPU     torch  ok: 3 steps") for line in lines)
    assert any(line.startswith("CPU     keras  ok: 3 steps") for line in lines)
    lines, code = doctor.gpu_check(gpus=[])
    assert code == 1 and "no GPU visible" in lines[0]
    seen = []

    def fake_step(framework, gpu):          # a GPU machine where TensorFlow silently trains on the CPU
        seen.append((framework, gpu))
        if framework == "keras":
            return {"ok": False, "error": f"trained on /device:CPU:0, not on GPU {gpu}"}
        return {"ok": True, "ms": 5.0, "device": "cuda:0", "losses": [2.3, 2.1, 1.9]}
    monkeypatch.setattr(doctor, "training_step", fake_step)
    lines, code = doctor.gpu_check(gpus=["0", "1"])
    assert code == 1 and seen == [("torch", "0"), ("keras", "0"), ("torch", "1"), ("keras", "1")]
    assert "GPU 1   keras  FAILED: trained on /device:CPU:0, not on GPU 1" in lines and lines[-1] == "2 training step(s) failed"
