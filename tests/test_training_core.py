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


@pytest.mark.parametrize("scaled", [False, True])
def test_distributed_loop_unscales_a_loss_scale_optimizer(scaled):
    """One SGD step through ``fit_distributed``: with a LossScaleOptimizer (loss x 2^15, gradients / 2^15) the
    weights equal those of a plain step, computed by hand: w - lr * 2 (x.w - y) x."""
    import keras
    import tensorflow as tf

    from chromseq.training.core import fit_distributed

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].set_weights([np.array([[1.0], [2.0]], np.float32)])
    sgd = keras.optimizers.SGD(0.25)
    optimizer = keras.optimizers.LossScaleOptimizer(sgd, initial_scale=2.0**15) if scaled else sgd
    model.compile(optimizer, "mse")
    x, y = np.array([[1.0, 0.5]], np.float32), np.zeros((1, 1), np.float32)
    data = tf.data.Dataset.from_tensors((x, y))  # pred 2, loss 4, gradient 2 * 2 * x = [4, 2]
    fit_distributed(model, tf.distribute.get_strategy(), data, epochs=1, initial_epoch=0, steps_per_epoch=1,
                    callbacks=[], verbose=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], [[0.0], [1.5]])
    if scaled:
        assert float(optimizer.dynamic_scale.numpy()) == 2.0**15  # finite gradients: the scale is kept


def test_time_budget_stops_between_steps_and_leaves_a_resumable_run(tmp_path):
    """A budget of 0.5 min on a clock that advances 10 s per reading: training stops after the 3rd step of the
    first epoch (of 5 per epoch), and that epoch is checkpointed like a full one."""
    import json

    from chromseq.training.callbacks import TimeBudget

    ticks = iter(range(0, 10_000, 10))
    budget = TimeBudget(0.5, clock=lambda: next(ticks))
    x, y = _data()
    result = fit(_model, (x, y), _data(64, seed=1), tmp_path / "run", epochs=3, batch_size=32, verbose=0,
                 callbacks=[budget])
    assert budget.stopped_at == (0, 3)
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 1 and state["iterations"] == 3 and result.epochs_run == 1
    assert (tmp_path / "run" / "checkpoints" / "best.keras").exists()
    resumed = fit(_model, (x, y), _data(64, seed=1), tmp_path / "run", epochs=2, batch_size=32, verbose=0,
                  resume=True)
    state = json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())
    assert resumed.epochs_run == 2 and state["iterations"] == 3 + 5  # the next epoch, whole
