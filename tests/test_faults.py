"""Faults lose nothing: full disks, failed writes, concurrent runs, kills and NaN losses.

Each test runs what a user runs (the CLI in-process, or in a subprocess where the fault is a
process crash or a kill) and checks the one-line error (exit 2, no traceback) or the state that
is left behind. A real full disk needs a small tmpfs (root); without one the write limit of a
subprocess (``ulimit -f``: writes past it fail with EFBIG) stands in for it.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data.synth import write_bundle

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
CLI = [sys.executable, "-c", "from chromseq.cli import main; main()"]


def _run(args, *, file_limit: int | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``chromseq ARGS`` in a subprocess; ``file_limit``: no file may grow past this many bytes."""

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run([*CLI, *map(str, args)], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit if file_limit else None)


def _assert_error(rc: int, text: str, message: str) -> None:
    """Exit 2 and a last line ``error: <message>...``, no traceback."""
    assert rc == 2, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    last = text.strip().splitlines()[-1]
    assert last.startswith(f"error: {message}"), last


def _hidden(folder: Path) -> list[str]:
    """Temporary / partial files left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock")


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (skipped where it cannot be mounted: needs root)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True,
                            text=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    write_bundle(out, n_train=256, n_valid=64, n_test=16, length=100, n_features=6, seed=0)
    return out


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory):
    """Large enough (train.mat 1.6 MB) to overflow the small disk and the write limit."""
    out = tmp_path_factory.mktemp("big")
    write_bundle(out, n_train=2000, n_valid=16, n_test=16, length=200, n_features=6, seed=0)
    return out


def _config(bundle, tmp_path, run="run", data=None, **train):
    cfg = {"name": "faults", "run_dir": str(tmp_path / run), "seed": 0,
           "model": {"name": "demo_cnn", "params": {"filters": 8, "widths": [9, 3]}},
           "data": {"train": str(bundle / "train.mat"), "valid": str(bundle / "valid.mat"), **(data or {})},
           "train": {"epochs": 2, "batch_size": 64, "verbose": 0, **train}}
    path = tmp_path / f"{run}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _train_in_subprocess(cfg: Path, callback: str, *args) -> subprocess.Popen:
    """``train(cfg)`` in a fresh process with one extra callback (class ``Fault``, source ``callback``)."""
    script = f"""
import os, signal, sys, time
from pathlib import Path
import keras
from chromseq.training import train
{callback}
train({str(cfg)!r}, callbacks=[Fault()])
"""
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _history(run: Path) -> list[dict]:
    """history.csv without the wall-clock column."""
    with open(run / "history.csv") as fh:
        return [{k: v for k, v in row.items() if k != "epoch_seconds"} for row in csv.DictReader(fh)]


# -- 1. a full disk: synth and convert stop with one line and leave no partial file -------------------


def test_synth_and_convert_on_a_full_disk_stop_cleanly(small_disk, big_bundle):
    out = small_disk / "synth"
    result = _run(["data", "synth", "--out", out, "--train", 2000, "--valid", 16, "--test", 16, "--length", 200,
                   "--features", 6])
    _assert_error(result.returncode, result.stderr, f"{out / 'train.mat'}: no space left on device")
    assert not (out / "train.mat").exists() and _hidden(out) == []

    store = small_disk / "train.h5"
    result = _run(["data", "convert", big_bundle / "train.mat", "--out", store, "--no-pack"])
    _assert_error(result.returncode, result.stderr, f"{store}: no space left on device")
    assert not store.exists() and _hidden(small_disk) == []


def test_synth_and_convert_past_a_file_size_limit_stop_cleanly(tmp_path, big_bundle):
    """The same without root: HDF5 write errors used to end in SIGSEGV (exit 139) and a partial file."""
    out = tmp_path / "synth"
    result = _run(["data", "synth", "--out", out, "--train", 2000, "--valid", 16, "--test", 16, "--length", 200,
                   "--features", 6], file_limit=400_000)
    _assert_error(result.returncode, result.stderr, f"{out / 'train.mat'}: file too large")
    assert not (out / "train.mat").exists() and _hidden(out) == []

    store = tmp_path / "train.h5"
    result = _run(["data", "convert", big_bundle / "train.mat", "--out", store, "--no-pack"], file_limit=400_000)
    _assert_error(result.returncode, result.stderr, f"{store}: file too large")
    assert not store.exists() and _hidden(tmp_path) == []


# -- 2. an output that fails half-way never replaces the earlier one ----------------------------------


@pytest.fixture(scope="module")
def trained(bundle, tmp_path_factory):
    from chromseq.training import train

    tmp = tmp_path_factory.mktemp("trained")
    return train(_config(bundle, tmp, epochs=1), tmp / "run")


def _fasta(path: Path, n: int, length: int = 100) -> Path:
    rng = np.random.default_rng(0)
    path.write_text("".join(f">s{i}\n{''.join(rng.choice(list('ACGT'), length))}\n" for i in range(n)))
    return path


@pytest.mark.parametrize("name", ["preds.tsv", "preds.h5"])
def test_predict_that_fails_half_way_keeps_the_earlier_output(trained, tmp_path, name):
    fasta = _fasta(tmp_path / "seqs.fa", 2000)
    out = tmp_path / "out" / name
    first = CliRunner().invoke(main, ["predict", "--run", str(trained), "--fasta", str(fasta), "--out", str(out)])
    assert first.exit_code == 0, first.output
    good = out.read_bytes()
    assert len(good) > 40_000
    # the same command again, with room for only part of the file
    result = _run(["predict", "--run", trained, "--fasta", fasta, "--out", out], file_limit=20_000)
    _assert_error(result.returncode, result.stderr, f"{out}: file too large")
    assert out.read_bytes() == good and _hidden(out.parent) == []


def test_predict_on_a_full_disk_keeps_the_earlier_output(trained, tmp_path, small_disk):
    fasta = _fasta(tmp_path / "seqs.fa", 2000)
    out = small_disk / "preds.tsv"
    first = CliRunner().invoke(main, ["predict", "--run", str(trained), "--fasta", str(fasta), "--out", str(out)])
    assert first.exit_code == 0, first.output
    good = out.read_bytes()
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:  # leave less room than a second copy needs
        fh.write(b"\0" * (1024 * 1024 - len(good) - 60_000))
    result = CliRunner().invoke(main, ["predict", "--run", str(trained), "--fasta", str(fasta), "--out", str(out)])
    _assert_error(result.exit_code, result.output, f"{out}: no space left on device")
    assert out.read_bytes() == good and _hidden(small_disk) == []


# -- 3. one train per run directory ------------------------------------------------------------------

BLOCK = """
class Fault(keras.callbacks.Callback):  # signal that training runs, then wait for the go file
    def on_train_batch_end(self, batch, logs=None):
        Path(sys.argv[1]).touch()
        deadline = time.time() + 300
        while not Path(sys.argv[2]).exists() and time.time() < deadline:
            time.sleep(0.05)
"""


def test_a_second_train_into_the_same_run_directory_is_refused(bundle, tmp_path):
    cfg = _config(bundle, tmp_path)
    started, go = tmp_path / "started", tmp_path / "go"
    first = _train_in_subprocess(cfg, BLOCK, started, go)
    try:
        deadline = time.time() + 300
        while not started.exists():
            assert first.poll() is None, first.communicate()[1][-3000:]
            assert time.time() < deadline
            time.sleep(0.1)
        for extra in ([], ["--overwrite"], ["--resume"]):
            result = CliRunner().invoke(main, ["train", "--config", str(cfg), *extra])
            _assert_error(result.exit_code, result.output,
                          f"{tmp_path / 'run'}: another chromseq train is using this run directory "
                          f"(pid {first.pid})")
    finally:
        go.touch()
        _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-3000:]
    run = tmp_path / "run"
    assert [r["epoch"] for r in _history(run)] == ["0", "1"]
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 2
    # the lock ends with its process: the next command proceeds
    again = CliRunner().invoke(main, ["train", "--config", str(cfg), "--resume"])
    assert again.exit_code == 0 and "nothing left to train" in again.output, again.output


# -- 4. a run that died in its first epoch blocks nothing ---------------------------------------------

KILL_IN_FIRST_EPOCH = """
class Fault(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("how", [[], ["--resume"]])
def test_rerun_after_a_kill_in_the_first_epoch(bundle, tmp_path, how):
    cfg = _config(bundle, tmp_path)
    killed = _train_in_subprocess(cfg, KILL_IN_FIRST_EPOCH)
    killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL
    run = tmp_path / "run"
    assert (run / "config.yaml").exists() and not (run / "checkpoints" / "state.json").exists()
    result = CliRunner().invoke(main, ["train", "--config", str(cfg), *how])
    assert result.exit_code == 0, result.output
    assert ("starting from scratch" if how else "starting over") in result.output
    assert [r["epoch"] for r in _history(run)] == ["0", "1"]
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 2


def test_resume_without_a_run_directory_starts_from_scratch(bundle, tmp_path):
    result = CliRunner().invoke(main, ["train", "--config", str(_config(bundle, tmp_path, epochs=1)), "--resume"])
    assert result.exit_code == 0, result.output
    assert "no completed epoch to resume; starting from scratch" in result.output
    assert (tmp_path / "run" / "model.keras").exists()


def test_a_rerun_never_clears_a_folder_that_holds_other_files(bundle, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    for how in ([], ["--resume"]):
        result = CliRunner().invoke(main, ["train", "--config", str(_config(bundle, tmp_path)), *how])
        _assert_error(result.exit_code, result.output, f"{tmp_path / 'run'}: ")
        assert "--overwrite" in result.output
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


# -- 5. a NaN loss stops training; the last good checkpoint stays ------------------------------------


def test_a_huge_learning_rate_stops_with_nan_in_the_first_epoch_and_a_rerun_works(bundle, tmp_path):
    cfg = _config(bundle, tmp_path, optimizer="sgd")
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--config", str(cfg), "--set", "train.learning_rate=1e30"])
    _assert_error(result.exit_code, result.output, f"{run}: training loss is nan at epoch 1, step ")
    assert "no epoch was completed" in result.output
    assert not (run / "model.keras").exists() and not (run / "metrics.json").exists()
    # nothing was completed, so a plain rerun with a sane learning rate just starts over
    again = CliRunner().invoke(main, ["train", "--config", str(cfg)])
    assert again.exit_code == 0, again.output
    assert np.isfinite(json.loads((run / "metrics.json").read_text())["loss"])


def test_a_poisoned_weight_stops_at_its_step_and_keeps_the_last_good_checkpoint(bundle, tmp_path):
    import keras

    from chromseq.errors import ChromseqError
    from chromseq.runs import load_model
    from chromseq.training import train

    class Poison(keras.callbacks.Callback):  # epoch 2, step 3: one weight becomes NaN
        def on_train_batch_begin(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == 4 + 2:
                kernel = self.model.get_layer("logits").kernel
                kernel.assign(np.where(np.arange(kernel.shape[0])[:, None] == 0, np.nan, kernel.numpy()))

    cfg = _config(bundle, tmp_path, epochs=3)
    run = tmp_path / "run"
    with pytest.raises(ChromseqError, match=r"training loss is nan at epoch 2, step 3; .*keeps epoch 1"):
        train(cfg, callbacks=[Poison()])
    assert json.loads((run / "checkpoints" / "state.json").read_text())["epoch"] == 1
    last = load_model(run / "checkpoints" / "last.keras")
    assert all(np.isfinite(w).all() for w in last.get_weights())
    assert [r["epoch"] for r in _history(run)] == ["0"] and not (run / "model.keras").exists()
    # --resume continues from the good epoch
    result = CliRunner().invoke(main, ["train", "--config", str(cfg), "--resume"])
    assert result.exit_code == 0, result.output
    assert [r["epoch"] for r in _history(run)] == ["0", "1", "2"]


# -- 6. kill -9 and --resume end where the uninterrupted run ends ------------------------------------

KILL_IN_THIRD_EPOCH = """
class Fault(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.model.optimizer.iterations.numpy() >= 2 * 4 + 2:  # 4 steps per epoch: mid-epoch 3
            os.kill(os.getpid(), signal.SIGKILL)
"""


def test_kill_and_resume_gives_the_history_of_an_uninterrupted_run(bundle, tmp_path):
    """Dropout masks, data order (reverse-complement flips too), optimizer, plateau LR state: all restored."""
    train = {"epochs": 4, "lr_schedule": "plateau", "lr_patience": 1, "learning_rate": 0.01,
             "monitor": "val_loss", "early_stopping_patience": 3}
    data = {"rc_augment": True}
    straight = _config(bundle, tmp_path, run="straight", data=data, **train)
    cfg = _config(bundle, tmp_path, run="killed", data=data, **train)
    assert CliRunner().invoke(main, ["train", "--config", str(straight)]).exit_code == 0
    killed = _train_in_subprocess(cfg, KILL_IN_THIRD_EPOCH)
    killed.communicate(timeout=600)
    assert killed.returncode == -signal.SIGKILL
    assert json.loads((tmp_path / "killed" / "checkpoints" / "state.json").read_text())["epoch"] == 2
    result = CliRunner().invoke(main, ["train", "--config", str(cfg), "--resume"])
    assert result.exit_code == 0, result.output
    a, b = _history(tmp_path / "straight"), _history(tmp_path / "killed")
    assert len(a) == 4 and a == b
    ma = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    mb = json.loads((tmp_path / "killed" / "metrics.json").read_text())
    assert ma == mb


def test_resume_drops_history_rows_of_the_epoch_it_replays(tmp_path):
    from chromseq.training.core import _truncate_history

    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,0.5\n1,0.4\n2,0.3\n")
    _truncate_history(path, 2)
    assert path.read_text() == "epoch,loss\n0,0.5\n1,0.4\n"
