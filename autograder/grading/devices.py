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


def gpu_memory_mb(env: dict[str, str] | None = None) -> dict[str, int]:
    """Total memory of each GPU in MB, by id (``nvidia-smi``; empty when it cannot tell)."""
    if shutil.which("nvidia-smi") is None:
        return {}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    sizes = {}
    for line in out.splitlines():
        index, _, total = line.partition(",")
        if index.strip().isdigit() and total.strip().isdigit():
            sizes[index.strip()] = int(total.strip())
    return sizes


def worker_count(requested: int | None, gpus: list[str], cpus: int | None = None) -> int:
    """Workers to run: ``requested`` (on a GPU machine, more workers than GPUs share them), else one per
    GPU, else the number of CPUs (at most 8)."""
    cpus = cpus or os.cpu_count() or 1
    if requested:
        return max(1, requested)
    return len(gpus) if gpus else max(1, min(cpus, 8))


def gpu_share(slot: int, workers: int, gpus: list[str]) -> tuple[str, float]:
    """The GPU of ``slot`` (round robin) and the share of its memory each of the workers on it may use."""
    gpu = gpus[slot % len(gpus)]
    sharing = sum(1 for s in range(max(workers, 1)) if gpus[s % len(gpus)] == gpu)
    return gpu, 1.0 / max(sharing, 1)


def worker_env(slot: int, gpus: list[str], *, mixed_precision: bool = True, workers: int | None = None,
               memory_mb: dict[str, int] | None = None) -> dict[str, str]:
    """Environment for the worker in ``slot``: its own GPU (or none), mixed precision on GPU, and when
    several workers share a GPU, each one's share of its memory: a fraction for torch
    (``set_per_process_memory_fraction``), a limit in MB for TensorFlow (a logical device), so one
    submission running out of GPU memory cannot take its neighbours' memory."""
    if not gpus:
        return {"CUDA_VISIBLE_DEVICES": "", "AUTOGRADER_DEVICE": "cpu", "AUTOGRADER_MIXED_PRECISION": "0"}
    gpu, share = gpu_share(slot, workers or len(gpus), gpus)
    env = {"CUDA_VISIBLE_DEVICES": gpu, "AUTOGRADER_DEVICE": f"cuda:{gpu}",
           "AUTOGRADER_MIXED_PRECISION": "1" if mixed_precision else "0"}
    total = (memory_mb or {}).get(gpu)
    if share < 1.0:
        env["AUTOGRADER_GPU_MEMORY_FRACTION"] = f"{share * 0.95:.3f}"      # 5 % left for the CUDA contexts
        if total:
            env["AUTOGRADER_GPU_MEMORY_MB"] = str(int(total * share * 0.95))
    if "AUTOGRADER_GPU_MEMORY_MB" not in env:
        env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"        # (a memory limit and memory growth exclude each other)
    return env


def cpu_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` (a worker's kernel environment) moved to the CPU: what :func:`worker_env` gives a GPU
    worker is dropped and the CPU's settings put in its place."""
    gpu_only = ("AUTOGRADER_GPU_MEMORY_FRACTION", "AUTOGRADER_GPU_MEMORY_MB", "TF_FORCE_GPU_ALLOW_GROWTH")
    return {k: v for k, v in env.items() if k not in gpu_only} | worker_env(0, [])


GPU_OOM = ("CUDA out of memory", "OutOfMemoryError", "ResourceExhaustedError", "OOM when allocating",
           "CUBLAS_STATUS_ALLOC_FAILED", "failed to allocate memory")


def gpu_out_of_memory(text: str) -> bool:
    """Does an error message say the GPU ran out of memory (torch or TensorFlow)?"""
    return any(marker in text for marker in GPU_OOM)


def device_nodes(slot: int, gpus: list[str]) -> list[str]:
    """Device files a sandboxed kernel on ``slot`` may open: its own GPU and the driver's control nodes."""
    if not gpus:
        return []
    gpu = gpus[slot % len(gpus)]
    nodes = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
    return nodes + ([f"/dev/nvidia{gpu}"] if gpu.isdigit() else [])
