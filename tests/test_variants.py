"""The two install variants: which one `./kit` picks, and that their locks pin the same environment."""
import os
import re
import subprocess

import pytest


def _pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version
    return pins


def test_the_gpu_lock_is_the_cpu_lock_with_tensorflows_cuda_build(repo):
    cpu, gpu = _pins(repo / "requirements.txt"), _pins(repo / "requirements-gpu.txt")
    assert cpu.pop("tensorflow-cpu") == gpu.pop("tensorflow")          # the same TensorFlow, the other build
    assert "tensorflow[and-cuda]==" in (repo / "requirements-gpu.txt").read_text()
    cuda12 = {n for n in gpu if n.startswith("nvidia-") and n.endswith("-cu12")}
    assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12"} <= cuda12
    assert {n: v for n, v in gpu.items() if n not in cuda12} == cpu      # every other pin identical
    assert cpu["torch"] == gpu["torch"] and "nvidia-cudnn-cu13" in cpu   # torch's CUDA 13 build in both


def _variant(repo, tmp_path, *, gpu: bool, forced: str | None = None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "nvidia-smi"
    if gpu:
        fake.write_text('#!/bin/sh\necho "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-0)"\n')
        fake.chmod(0o755)
    elif fake.exists():
        fake.unlink()
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")
    env.pop("KIT_VARIANT", None)
    if forced:
        env["KIT_VARIANT"] = forced
    return subprocess.run([str(repo / "kit"), "variant"], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("gpu, forced, picked", [(False, None, "cpu requirements.txt"),
                                                  (True, None, "gpu requirements-gpu.txt"),
                                                  (True, "cpu", "cpu requirements.txt"),
                                                  (False, "gpu", "gpu requirements-gpu.txt")])
def test_kit_picks_the_variant_from_the_machine_unless_forced(repo, tmp_path, gpu, forced, picked):
    proc = _variant(repo, tmp_path, gpu=gpu, forced=forced)
    assert proc.returncode == 0 and proc.stdout.strip() == picked, proc.stderr


def test_a_wrong_variant_is_refused(repo, tmp_path):
    proc = _variant(repo, tmp_path, gpu=False, forced="cuda")
    assert proc.returncode == 2 and "KIT_VARIANT must be gpu, cpu or auto" in proc.stderr
