"""Keras callbacks: whole-validation-set metrics, snapshots, atomic checkpoints with early stopping.

The validation metrics run first in the callback list: they add ``val_loss``,
``val_perplexity``, ``val_auroc``, ``val_auprc``, ``val_f1`` and ``val_best_f1`` to the
epoch's logs, which the CSV logger, TensorBoard and the checkpoint callback then read.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np

from chromseq.evaluation.metrics import mean_f1, per_feature_metrics
from chromseq.inference import predict_batches


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
    """Predict the whole validation set once per epoch and log F1, perplexity, AUROC, AUPRC."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256, alphabet: str = "AGCT"):
        super().__init__()
        self.x, self.y, self.batch_size, self.alphabet = x, y, batch_size, alphabet
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        train_seconds = time.perf_counter() - self._start
        pred = predict_batches(self.model, self.x, batch_size=self.batch_size)
        for key, value in validation_metrics(self.y, pred).items():
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
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.out_dir / f".epoch_{epoch + 1:03d}.npz"
        np.savez_compressed(tmp, x=self.x.astype(np.uint8), y_true=self.y.astype(np.uint8),
                            y_pred=pred.astype(np.float32), epoch=epoch + 1, alphabet=self.alphabet)
        os.replace(tmp, self.out_dir / f"epoch_{epoch + 1:03d}.npz")


def save_model_atomic(model: keras.Model, path: Path) -> None:
    """Save to a temporary ``.keras`` file, then rename: a failed write keeps the old file valid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Checkpoints(keras.callbacks.Callback):
    """best.keras / last.keras / state.json each epoch, early stopping whose state survives resume."""

    def __init__(self, ckpt_dir: Path, monitor: str, patience: int | None, state: dict | None = None):
        super().__init__()
        self.dir = Path(ckpt_dir)
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
            save_model_atomic(self.model, self.dir / "best.keras")
        else:
            self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.model.stop_training = True
            self.stopped_early = True
        save_model_atomic(self.model, self.dir / "last.keras")
        state = {"epoch": epoch + 1, "monitor": self.monitor, "best": self.best, "best_epoch": self.best_epoch,
                 "wait": self.wait, "stopped_early": self.stopped_early,
                 "logs": {k: float(v) for k, v in logs.items() if np.isscalar(v)}}
        tmp = self.dir / ".state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.dir / "state.json")
