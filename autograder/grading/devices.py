"""Devices for grading workers: one GPU per worker when there are GPUs, else the CPU.

The logic is pure (lists of device ids in, environments out) so it is tested on machines with no GPU.
"""
from __future__ import annotations

import os
import shutil
import subprocess


def visible_gpus(env: dict[str, str] | None = None) -> list[str]:
    """GPU ids the runner may hand out: CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists."""
    env = dict(os.environ if env is None else env)
    if "CUDA_VISIBLE_DEVICES" in env:
        value = env["CUDA_VISIBLE_DEVICES"].strip()
        return [d for d in (x.strip() for x in value.split(",")) if d and d != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def worker_count(requested: int | None, gpus: list[str], cpus: int | None = None) -> int:
    """Workers to run: one per GPU on a GPU machine, else ``requested`` or the number of CPUs."""
    cpus = cpus or os.cpu_count() or 1
    if requested:
        return max(1, requested)
    return len(gpus) if gpus else max(1, min(cpus, 8))


def worker_env(slot: int, gpus: list[str], *, mixed_precision: bool = True) -> dict[str, str]:
    """Environment for the worker in ``slot``: its own GPU (or none), and mixed precision on GPU."""
    if not gpus:
        return {"CUDA_VISIBLE_DEVICES": "", "AUTOGRADER_DEVICE": "cpu", "AUTOGRADER_MIXED_PRECISION": "0"}
    gpu = gpus[slot % len(gpus)]
    return {"CUDA_VISIBLE_DEVICES": gpu, "AUTOGRADER_DEVICE": f"cuda:{gpu}",
            "AUTOGRADER_MIXED_PRECISION": "1" if mixed_precision else "0",
            "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def device_nodes(slot: int, gpus: list[str]) -> list[str]:
    """Device files a sandboxed kernel on ``slot`` may open: its own GPU and the driver's control nodes."""
    if not gpus:
        return []
    gpu = gpus[slot % len(gpus)]
    nodes = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
    return nodes + ([f"/dev/nvidia{gpu}"] if gpu.isdigit() else [])
