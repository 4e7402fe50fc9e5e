"""tf.distribute: mirrored over two logical CPU devices, multi-worker over two local processes."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chromseq.data.synth import write_bundle

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _config(bundle: Path, run_dir: Path, strategy: str) -> dict:
    return {"name": "dist", "run_dir": str(run_dir), "seed": 0,
            "model": {"name": "demo_cnn", "params": {"filters": 8, "widths": [9, 3]}},
            "data": {"train": str(bundle / "train.mat"), "valid": str(bundle / "valid.mat")},
            "train": {"epochs": 2, "batch_size": 32, "verbose": 0},
            "device": {"strategy": strategy, "deterministic": False}}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    write_bundle(out, n_train=128, n_valid=64, n_test=8, length=60, n_features=6, seed=0)
    return out


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus(bundle, tmp_path):
    cfg = _config(bundle, tmp_path / "run", "mirrored")
    script = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from chromseq.training import train
train({cfg!r})
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "environment.json").read_text())["replicas"] == 2
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_multi_worker_with_two_local_processes(bundle, tmp_path):
    cfg = _config(bundle, tmp_path / "run", "multi_worker")
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    script = f"from chromseq.training import train\ntrain({cfg!r})\n"
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env={**ENV, "TF_CONFIG": tf_config}))
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    assert json.loads((tmp_path / "run" / "environment.json").read_text())["replicas"] == 2
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 2
