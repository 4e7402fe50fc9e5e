"""GPU paths checked on CPU: memory growth on every GPU, the mixed policy by compute capability, gpu_check.sh."""

import os
import subprocess
from pathlib import Path

from chromseq.training import devices

ROOT = Path(__file__).resolve().parents[1]


def test_memory_growth_is_set_on_every_gpu_and_nowhere_without_one(monkeypatch):
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda gpu, on: calls.append((gpu, on)))
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    assert devices.grow_gpu_memory() == 0 and calls == []
    gpus = ["/physical_device:GPU:0", "/physical_device:GPU:1"]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus if kind == "GPU" else [])
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    assert devices.grow_gpu_memory() == 2
    assert calls == [(gpus[0], True), (gpus[1], True)]
    assert os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"

    def initialized(gpu, on):
        raise RuntimeError("Physical devices cannot be modified after being initialized")

    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", initialized)
    assert devices.grow_gpu_memory() == 2  # a GPU already in use is left as it is, no error


def test_mixed_policy_follows_compute_capability(monkeypatch):
    import keras
    import tensorflow as tf

    assert devices.mixed_policy_for_gpus([(9, 0)]) == "mixed_bfloat16"   # H100
    assert devices.mixed_policy_for_gpus([(8, 0), (8, 6)]) == "mixed_bfloat16"  # A100, RTX 30xx
    assert devices.mixed_policy_for_gpus([(7, 0)]) == "mixed_float16"    # V100: float16 with loss scaling
    assert devices.mixed_policy_for_gpus([(8, 0), (7, 5)]) == "mixed_float16"  # the oldest GPU decides
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["gpu"] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda gpu: {"compute_capability": (7, 5)})
    try:
        assert devices.set_precision(True) == "mixed_float16"
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)  # scaled in fit_distributed
        monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda gpu: {"compute_capability": (8, 9)})
        assert devices.set_precision(True) == "mixed_bfloat16"
        assert devices.set_precision("mixed_float16") == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_gpu_check_script_exits_cleanly_without_a_gpu():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no CUDA GPU visible" in proc.stdout and "nothing to check" in proc.stdout
