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


# each worker logs the train.mat blocks it reads: block sharding must split every epoch between them
_READ_LOG = """
from chromseq.data.mat import SeqDataset
_read = SeqDataset.read
def read(self, start=0, stop=None):
    if self.path.name == "train.mat":
        with open({log!r}, "a") as fh:
            fh.write(f"{{start}} {{stop}}\\n")
    return _read(self, start, stop)
SeqDataset.read = read
"""


@pytest.mark.slow
def test_multi_worker_with_two_local_processes_reads_each_block_once(bundle, tmp_path):
    cfg = _config(bundle, tmp_path / "run", "multi_worker")
    cfg["data"].update(block_size=16, shuffle_buffer_blocks=2)  # 8 blocks of 16: 4 per worker and epoch
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    for index in range(2):
        script = _READ_LOG.format(log=str(tmp_path / f"reads{index}.txt"))
        script += f"from chromseq.training import train\ntrain({cfg!r})\n"
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env={**ENV, "TF_CONFIG": tf_config}))
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    assert json.loads((tmp_path / "run" / "environment.json").read_text())["replicas"] == 2
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 2

    def reads(index):  # [(start, stop)] in the order read; samples of the training stream only
        rows = [tuple(map(int, line.split())) for line in (tmp_path / f"reads{index}.txt").read_text().splitlines()]
        return [r for r in rows if r[1] - r[0] == 16]

    r0, r1 = reads(0), reads(1)
    assert len(r0) == len(r1) == 8  # 2 epochs x 4 blocks each: 128 samples per worker, not 256
    for epoch in range(2):
        share0 = {s for s, _ in r0[4 * epoch : 4 * epoch + 4]}
        share1 = {s for s, _ in r1[4 * epoch : 4 * epoch + 4]}
        assert not share0 & share1  # disjoint ...
        assert share0 | share1 == set(range(0, 128, 16))  # ... and together the whole epoch
    assert [s for s, _ in r0[:4]] != [s for s, _ in r0[4:]]  # each epoch a new block order
