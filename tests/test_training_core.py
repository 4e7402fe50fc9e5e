"""The training core ``chromseq.fit``: arrays in, exact resume, pluggable validation, non-chief workers."""

import csv

import numpy as np
import pytest

import chromseq
from chromseq.training import fit


def _data(n=160, length=20, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]
    y = (x[:, :, 0].sum(1, keepdims=True) > np.array([[4, 5, 6]])).astype(np.float32)[:, :k]
    return x, y


def _model():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20, 4)), keras.layers.Flatten(), keras.layers.Dropout(0.2),
                              keras.layers.Dense(3, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    return model


def _history(run):
    with open(run / "history.csv") as fh:
        return [{k: v for k, v in row.items() if k != "epoch_seconds"} for row in csv.DictReader(fh)]


def test_arrays_resume_like_an_uninterrupted_run(tmp_path):
    x, y = _data()
    valid = _data(64, seed=1)
    kw = {"batch_size": 32, "monitor": "val_loss", "reduce_lr": {"factor": 0.5, "patience": 1}, "verbose": 0}
    straight = fit(_model, (x, y), valid, tmp_path / "a", epochs=3, **kw)
    first = fit(_model, (x, y), valid, tmp_path / "b", epochs=1, **kw)
    assert first.epochs_run == 1 and len(first.history) == 1
    resumed = fit(_model, (x, y), valid, tmp_path / "b", epochs=3, resume=True, **kw)
    assert straight.epochs_run == resumed.epochs_run == 3
    assert _history(tmp_path / "a") == _history(tmp_path / "b")
    assert {"val_auroc", "val_f1", "val_perplexity", "perplexity"} <= set(straight.history[0])
    assert chromseq.fit is fit
    again = fit(_model, (x, y), valid, tmp_path / "b", epochs=3, resume=True, **kw)
    assert again.model is None and again.epochs_run == 3


def test_validation_function_and_epoch_arrays(tmp_path):
    x, y = _data()
    seen, calls = [], []

    def arrays(epoch):  # epoch-dependent training data, one fewer sample each epoch
        seen.append(epoch)
        return x[epoch:], y[epoch:]

    def validation(model):
        calls.append(model)
        return {"score": 1.0 + len(calls)}

    result = fit(_model(), arrays, validation, tmp_path / "run", epochs=3, batch_size=32, monitor="val_score",
                 patience=None, verbose=0)
    assert seen == [0, 1, 2] and result.best_epoch == 3
    assert [row["val_score"] for row in result.history] == [2.0, 3.0, 4.0]
    assert (tmp_path / "run" / "model.keras").exists()


def test_an_existing_run_directory_is_refused_without_overwrite(tmp_path):
    x, y = _data()
    fit(_model, (x, y), (x, y), tmp_path / "run", epochs=1, verbose=0)
    from chromseq.errors import ChromseqError

    with pytest.raises(ChromseqError, match="already exists"):
        fit(_model, (x, y), (x, y), tmp_path / "run", epochs=1, verbose=0)
    assert fit(_model, (x, y), (x, y), tmp_path / "run", epochs=1, verbose=0, overwrite=True).epochs_run == 1


def test_a_resuming_non_chief_worker_reads_the_run_directory_it_was_given(tmp_path, monkeypatch):
    """Multi-worker --resume: other workers resume from the explicit run dir, and write nothing there."""
    x, y = _data()
    run = tmp_path / "explicit"
    fit(_model, (x, y), (x, y), run, epochs=1, batch_size=32, verbose=0)
    before = (run / "history.csv").read_text(), (run / "model.keras").stat().st_mtime_ns
    monkeypatch.setattr("chromseq.training.devices.is_chief", lambda strategy: False)
    result = fit(_model, (x, y), (x, y), run, epochs=2, batch_size=32, resume=True, verbose=0)
    assert result.epochs_run == 2 and [row["epoch"] for row in result.history] == [1]  # epoch 2, kept privately
    assert ((run / "history.csv").read_text(), (run / "model.keras").stat().st_mtime_ns) == before
