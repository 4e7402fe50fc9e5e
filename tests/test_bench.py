"""The benchmark measurements run on real data and models (tiny shapes; no timing is asserted)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from chromseq.benchmarks.measure import bench_loader, bench_predict, bench_train
from chromseq.benchmarks.speed import median_run
from chromseq.cli import main
from chromseq.data import write_mat_v73


@pytest.fixture
def train_mat(tmp_path):
    rng = np.random.default_rng(0)
    x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (96, 200))]
    y = (rng.random((96, 7)) < 0.2).astype(np.uint8)
    write_mat_v73(tmp_path / "train.mat", x, y)
    return str(tmp_path / "train.mat")


def test_train_from_disk_and_memory_measure_the_same_model(train_mat):
    disk = bench_train("demo_cnn_rnn", "disk", train_mat, batch_size=8, batches=2, warmup=1)
    memory = bench_train("demo_cnn_rnn", "memory", train_mat, batch_size=8, batches=2, warmup=1)
    assert disk["mode"] == "train_disk" and memory["mode"] == "train_memory"
    assert disk["params"] == memory["params"] > 0
    assert disk["samples_per_s"] > 0 and memory["samples_per_s"] > 0 and disk["peak_rss_mb"] > 0


def test_loader_and_predict_paths(train_mat):
    loader = bench_loader(train_mat, batch_size=16, batches=3, block_size=32)
    assert loader["samples"] == 48 and loader["samples_per_s"] > 0
    rates = bench_predict("demo_cnn_rnn", train_mat, batch_size=32, samples=64)["samples_per_s"]
    assert set(rates) == {"bare_call", "chromseq", "model_predict"} and min(rates.values()) > 0


def test_median_run_keeps_every_rate():
    runs = [{"samples_per_s": r, "i": i} for i, r in enumerate([30.0, 10.0, 20.0])]
    assert median_run(runs) == {"samples_per_s": 20.0, "i": 2, "runs_samples_per_s": [30.0, 10.0, 20.0]}
    assert median_run(runs + [{"samples_per_s": 40.0, "i": 3}])["samples_per_s"] == 20.0  # lower middle


@pytest.mark.slow
def test_bench_train_cli_repeats_and_json(train_mat, tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, ["bench", "train", "--data", train_mat, "--model", "demo_cnn_rnn",
                                       "--batch-size", "8", "--batches", "1", "--repeats", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "demo_cnn_rnn" in result.output and "disk" in result.output
    row = json.loads(out.read_text())["train"][0]
    assert len(row["disk"]["runs_samples_per_s"]) == len(row["memory"]["runs_samples_per_s"]) == 2
