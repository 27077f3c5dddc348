"""Device assignment logic (runs without a GPU: the GPU list is given, not detected)."""
from autograder.grading import devices


def test_cuda_visible_devices_is_respected():
    assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert devices.visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_one_gpu_per_worker_round_robin():
    gpus = ["0", "1"]
    assert devices.worker_count(None, gpus, cpus=32) == 2
    envs = [devices.worker_env(slot, gpus) for slot in range(3)]
    assert envs[0]["CUDA_VISIBLE_DEVICES"] == "0" and envs[1]["CUDA_VISIBLE_DEVICES"] == "1"
    assert envs[2]["CUDA_VISIBLE_DEVICES"] == "0"
    assert all(e["AUTOGRADER_MIXED_PRECISION"] == "1" for e in envs)
    assert devices.worker_env(0, gpus, mixed_precision=False)["AUTOGRADER_MIXED_PRECISION"] == "0"


def test_cpu_fallback_hides_gpus_and_disables_mixed_precision():
    env = devices.worker_env(0, [])
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["AUTOGRADER_DEVICE"] == "cpu"
    assert env["AUTOGRADER_MIXED_PRECISION"] == "0"
    assert devices.worker_count(None, [], cpus=2) == 2
    assert devices.worker_count(3, [], cpus=2) == 3
