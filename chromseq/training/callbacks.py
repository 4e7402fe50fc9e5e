"""Keras callbacks: whole-validation-set metrics, snapshots, atomic checkpoints with early stopping.

The validation metrics run first in the callback list: they add ``val_loss``,
``val_perplexity``, ``val_auroc``, ``val_auprc``, ``val_f1`` and ``val_best_f1`` to the
epoch's logs, which the CSV logger, TensorBoard and the checkpoint callback then read.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from chromseq import runs
from chromseq.errors import ChromseqError
from chromseq.evaluation.metrics import mean_f1, per_feature_metrics
from chromseq.inference import predict_batches
from chromseq.outputs import atomic_output, savez
from chromseq.runs import CHECKPOINT_DIR, atomic_write_text


def validation_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Loss (mean BCE), perplexity, mean AUROC/AUPRC, F1 at 0.5 and best F1 over the whole set.

    F1 is averaged over features with >= 1 % positives (Zhang & Kamath); AUROC/AUPRC over
    features with at least one positive and one negative.
    """
    p = np.clip(y_pred.astype(np.float64), 1e-7, 1 - 1e-7)
    y = y_true.astype(np.float64)
    loss = float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).mean())
    m = per_feature_metrics(y_true, y_pred, min_positives=1)
    f1, _ = mean_f1(y_true, y_pred)
    frequent = y_true.mean(0) >= 0.01
    best = m["best_f1"][frequent]
    best = best[~np.isnan(best)]

    def mean(a):
        a = a[~np.isnan(a)]
        return float(a.mean()) if len(a) else float("nan")

    return {"loss": loss, "perplexity": math.exp(loss), "auroc": mean(m["auroc"]), "auprc": mean(m["auprc"]),
            "f1": f1, "best_f1": float(best.mean()) if len(best) else float("nan")}


class ValidationMetrics(keras.callbacks.Callback):
    """Score the whole validation set once per epoch: ``evaluate(model) -> {name: value}`` logged as ``val_<name>``.

    Also logs the training ``perplexity`` = exp(loss), ``epoch_seconds`` (training time of the
    epoch, without the validation) and ``learning_rate``.
    """

    def __init__(self, evaluate: Callable[[keras.Model], dict[str, float]]):
        super().__init__()
        self.evaluate = evaluate
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        train_seconds = time.perf_counter() - self._start
        for key, value in self.evaluate(self.model).items():
            logs[f"val_{key}"] = value
        if "loss" in logs:
            logs["perplexity"] = math.exp(min(float(logs["loss"]), 50.0))
        logs["epoch_seconds"] = train_seconds
        lr = self.model.optimizer.learning_rate
        logs["learning_rate"] = float(lr.numpy() if hasattr(lr, "numpy") else lr)


class PredictionSnapshots(keras.callbacks.Callback):
    """Save predictions on a fixed validation sample each epoch (``snapshots/epoch_NNN.npz``)."""

    def __init__(self, out_dir: Path, x: np.ndarray, y: np.ndarray, alphabet: str):
        super().__init__()
        self.out_dir, self.x, self.y, self.alphabet = Path(out_dir), x, y, alphabet

    def on_epoch_end(self, epoch, logs=None):
        pred = predict_batches(self.model, self.x, batch_size=256)
        savez(self.out_dir / f"epoch_{epoch + 1:03d}.npz", compressed=True, x=self.x.astype(np.uint8),
              y_true=self.y.astype(np.uint8), y_pred=pred.astype(np.float32), epoch=epoch + 1,
              alphabet=self.alphabet)


def save_model_atomic(model: keras.Model, path: Path) -> None:
    """Save to a temporary ``.keras`` file, then rename: a failed write keeps the old file valid."""
    with atomic_output(path) as tmp:
        model.save(tmp)


def _seed_variables(model: keras.Model) -> list:
    return [v for v in model.variables if v.name == "seed_generator_state"]


def seed_states(model: keras.Model) -> list[list[int]]:
    """Where each random generator of the model (dropout masks) stands; ``.keras`` files do not keep it."""
    return [np.asarray(v.numpy()).astype(np.int64).tolist() for v in _seed_variables(model)]


def restore_seed_states(model: keras.Model, states: list | None) -> bool:
    """Put the model's dropout generators back where ``seed_states`` found them (False if they do not fit)."""
    variables = _seed_variables(model)
    if states is None or len(states) != len(variables):
        return False
    for variable, state in zip(variables, states):
        variable.assign(np.asarray(state).astype(variable.dtype))
    return True


class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """``ReduceLROnPlateau`` whose best value, wait and cooldown survive a resume (kept in ``state.json``)."""

    def __init__(self, *args, state: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._resume_state = state

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # resets best / wait / cooldown
        if self._resume_state:
            self.best = self._resume_state["best"]
            self.wait = self._resume_state["wait"]
            self.cooldown_counter = self._resume_state["cooldown_counter"]

    def get_state(self) -> dict:
        return {"best": float(self.best), "wait": int(self.wait), "cooldown_counter": int(self.cooldown_counter)}


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop at the first NaN / infinite loss, before anything of that epoch is written.

    Raises ``ChromseqError`` (one line: run directory, epoch, step), so the last good checkpoint
    stays as it was and no model, metrics or history row come from NaN scores. Checked after
    every training step (the running mean of the loss stays NaN once a step was NaN) and on
    the validation loss at the end of each epoch (before the logger and the checkpoints).
    """

    def __init__(self, run_dir: Path):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _fail(self, what: str, value: float, step: int | None = None) -> None:
        self.model.stop_training = True
        kept = (f"{CHECKPOINT_DIR}/{runs.LAST_FILE} keeps epoch {self.epoch}" if self.epoch
                else "no epoch was completed")
        where = f"epoch {self.epoch + 1}" + (f", step {step}" if step is not None else "")
        raise ChromseqError(f"{self.run_dir}: {what} is {value} at {where}; training stopped "
                            f"({kept}); lower the learning rate or check the data")

    def on_train_batch_end(self, batch, logs=None):
        value = (logs or {}).get("loss")
        if value is not None and not math.isfinite(float(value)):
            self._fail("training loss", float(value), step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        for key in ("loss", "val_loss"):
            value = (logs or {}).get(key)
            if value is not None and not math.isfinite(float(value)):
                self._fail("training loss" if key == "loss" else "validation loss", float(value))


class Checkpoints(keras.callbacks.Callback):
    """best.keras / last.keras / state.json each epoch, early stopping whose state survives resume.

    ``monitor`` is minimized when it ends in ``loss`` or ``perplexity``, else maximized.
    """

    def __init__(self, ckpt_dir: Path, monitor: str, patience: int | None, state: dict | None = None,
                 stateful: dict | None = None):
        super().__init__()
        self.dir = Path(ckpt_dir)
        self.stateful = stateful or {}  # name -> callback with get_state(), saved for resume
        self.monitor = monitor
        self.mode = "min" if monitor.endswith(("loss", "perplexity")) else "max"
        self.patience = patience
        state = state or {}
        self.best = state.get("best", math.inf if self.mode == "min" else -math.inf)
        self.best_epoch = state.get("best_epoch", 0)
        self.wait = state.get("wait", 0)
        self.stopped_early = state.get("stopped_early", False)

    def _improved(self, value: float) -> bool:
        if value is None or math.isnan(value):
            return False
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(f"monitor {self.monitor!r} is not among the epoch metrics: {', '.join(sorted(logs))}")
        if self._improved(float(value)):
            self.best, self.best_epoch, self.wait = float(value), epoch + 1, 0
            save_model_atomic(self.model, self.dir / runs.BEST_FILE)
        else:
            self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.model.stop_training = True
            self.stopped_early = True
        save_model_atomic(self.model, self.dir / runs.LAST_FILE)
        state = {"epoch": epoch + 1, "monitor": self.monitor, "best": self.best, "best_epoch": self.best_epoch,
                 "wait": self.wait, "stopped_early": self.stopped_early,
                 "iterations": int(self.model.optimizer.iterations.numpy()),
                 "rng": seed_states(self.model),
                 "callbacks": {name: cb.get_state() for name, cb in self.stateful.items()},
                 "logs": {k: float(v) for k, v in logs.items() if np.isscalar(v)}}
        atomic_write_text(self.dir / runs.STATE_FILE, json.dumps(state, indent=2))


class TimeBudget(keras.callbacks.Callback):
    """Stop training once ``minutes`` have passed since it began, checked after every step.

    The epoch in progress is cut short there and closed as usual (validation, history row,
    ``best.keras`` if it improved, ``last.keras`` and ``state.json``), so the run keeps its best
    model and ``--resume`` continues it with the next epoch (the rest of the cut epoch is
    skipped). Under ``fit_distributed`` (multi-worker) workers must stop at the same step, so
    there the budget is checked between epochs only. ``clock`` (seconds) is for tests.
    """

    def __init__(self, minutes: float, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self.minutes = minutes
        self.clock = clock
        self._start = 0.0
        self._epoch = 0
        self.stopped_at: tuple[int, int] | None = None  # (epoch, steps run in it) when the budget ended training

    def _spent(self) -> bool:
        return (self.clock() - self._start) / 60 >= self.minutes

    def on_train_begin(self, logs=None):
        self._start = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.stopped_at is None and self._spent():
            self.stopped_at = (self._epoch, batch + 1)
            print(f"time budget of {self.minutes} min reached after step {batch + 1} of epoch {self._epoch + 1}; "
                  "closing the epoch here (--resume continues with the next one)", flush=True)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped_at is None and self._spent():
            self.stopped_at = (epoch, -1)
            print(f"time budget of {self.minutes} min reached", flush=True)
            self.model.stop_training = True
