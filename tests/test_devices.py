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


def test_more_workers_than_gpus_share_them_with_a_memory_share_each():
    gpus = ["0", "1"]
    assert devices.worker_count(4, gpus) == 4
    envs = [devices.worker_env(slot, gpus, workers=4, memory_mb={"0": 40960, "1": 16384}) for slot in range(4)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "1", "0", "1"]
    assert all(e["AUTOGRADER_GPU_MEMORY_FRACTION"] == "0.475" for e in envs)         # two per GPU, 5 % spare
    assert envs[0]["AUTOGRADER_GPU_MEMORY_MB"] == "19456" and envs[1]["AUTOGRADER_GPU_MEMORY_MB"] == "7782"
    assert all("TF_FORCE_GPU_ALLOW_GROWTH" not in e for e in envs)       # a limit and growth exclude each other
    three = [devices.worker_env(slot, ["0"], workers=3) for slot in range(3)]
    assert {e["AUTOGRADER_GPU_MEMORY_FRACTION"] for e in three} == {"0.317"}
    assert all("AUTOGRADER_GPU_MEMORY_MB" not in e and e["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for e in three)
    alone = devices.worker_env(0, gpus, workers=2, memory_mb={"0": 40960})
    assert "AUTOGRADER_GPU_MEMORY_FRACTION" not in alone and alone["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert devices.gpu_share(2, 3, gpus) == ("0", 0.5) and devices.gpu_share(1, 3, gpus) == ("1", 1.0)


def test_gpu_out_of_memory_is_recognised_in_both_frameworks_and_named_per_cell(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from autograder.grading.worker import gpu_memory_flags
    assert devices.gpu_out_of_memory("OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")
    assert devices.gpu_out_of_memory("ResourceExhaustedError: OOM when allocating tensor with shape[256,64,224,224]")
    assert not devices.gpu_out_of_memory("MemoryError: Unable to allocate 3.2 GiB for an array")
    cell = new_code_cell("model.fit(x)", outputs=[new_output("error", ename="ResourceExhaustedError",
                                                              evalue="OOM when allocating tensor", traceback=[])])
    cell.metadata["nbgrader"] = {"grade_id": "q7_code"}
    fine = new_code_cell("1", outputs=[new_output("error", ename="ValueError", evalue="shapes", traceback=[])])
    nbformat.write(new_notebook(cells=[fine, cell]), tmp_path / "nb.ipynb")
    flags = gpu_memory_flags(tmp_path / "nb.ipynb")
    assert len(flags) == 1 and flags[0].startswith("q7_code: the GPU ran out of memory")
    assert gpu_memory_flags(tmp_path / "missing.ipynb") == []


def test_the_kernel_applies_its_gpu_share_when_the_frameworks_load(monkeypatch):
    from autograder.kernel import hook

    class Cuda:
        fraction = None
        is_available = staticmethod(lambda: True)

        @classmethod
        def set_per_process_memory_fraction(cls, value):
            cls.fraction = value

    class Torch:
        cuda = Cuda
        manual_seed = staticmethod(lambda seed: None)
        nn = None

    monkeypatch.setenv("AUTOGRADER_GPU_MEMORY_FRACTION", "0.475")
    hook._after_torch(Torch)
    assert Cuda.fraction == 0.475
    limits = []

    class Config:
        LogicalDeviceConfiguration = staticmethod(lambda memory_limit: memory_limit)
        list_physical_devices = staticmethod(lambda kind: ["GPU:0"])
        set_logical_device_configuration = staticmethod(lambda gpu, configs: limits.append((gpu, configs)))

    class TensorFlow:
        config = Config

    hook._after_tensorflow(TensorFlow)
    assert limits == []                                  # no limit asked: memory growth instead
    monkeypatch.setenv("AUTOGRADER_GPU_MEMORY_MB", "19456")
    hook._after_tensorflow(TensorFlow)
    assert limits == [("GPU:0", [19456])]


def test_a_gpu_workers_environment_moved_to_the_cpu_keeps_nothing_of_its_gpu():
    shared = devices.worker_env(1, ["0"], workers=2, memory_mb={"0": 16000})
    on_gpu = devices.worker_env(0, ["0"], workers=1)
    for env in (shared, on_gpu):
        moved = devices.cpu_env(dict(env, OMP_NUM_THREADS="1"))
        assert moved == {"CUDA_VISIBLE_DEVICES": "", "AUTOGRADER_DEVICE": "cpu", "AUTOGRADER_MIXED_PRECISION": "0",
                         "OMP_NUM_THREADS": "1"}
    assert "AUTOGRADER_GPU_MEMORY_MB" in shared and "TF_FORCE_GPU_ALLOW_GROWTH" in on_gpu
