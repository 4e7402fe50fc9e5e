"""``train(config)``: assemble the model and the data a config describes and hand them to ``fit``."""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.config import Config, config_from_dict, load_config
from chromseq.errors import ChromseqError
from chromseq.outputs import check_writable
from chromseq.training.devices import is_chief


def _resolve_config(config: Config | dict | str | Path, overrides: Iterable[str]) -> Config:
    if isinstance(config, Config):
        return config_from_dict(config.to_dict(), overrides)
    if isinstance(config, dict):
        return config_from_dict(config, overrides)
    return load_config(config, overrides)


def _environment(cfg: Config, devices: dict, policy: str, strategy) -> dict:
    import importlib.metadata as md

    versions = {}
    for pkg in ("chromseq", "tensorflow", "keras", "numpy", "h5py", "scipy", "scikit-learn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {"command": sys.argv, "python": platform.python_version(), "platform": platform.platform(),
            "host": platform.node(), "packages": versions, "devices": devices, "precision": policy,
            "strategy": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync, "seed": cfg.seed, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _feature_table(cfg: Config, train_path: Path, total: int, subset: np.ndarray | None):
    from chromseq.data.annotations import FeatureTable

    path = Path(cfg.data.annotations) if cfg.data.annotations else train_path.with_name("features.tsv")
    if path.exists():
        table = FeatureTable.read(path, n_features=total)
    elif cfg.data.annotations:
        raise ChromseqError(f"{path}: annotation table not found")
    else:
        table = FeatureTable.default(total)
    return table.subset(subset) if subset is not None else table


def _optimizer(cfg: Config, steps_per_epoch: int):
    import keras

    from chromseq.training.optimizers import make_optimizer

    t = cfg.train
    lr = t.learning_rate
    if t.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(t.learning_rate, decay_steps=max(1, t.epochs * steps_per_epoch))
    elif t.lr_schedule == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(t.learning_rate, steps_per_epoch, t.lr_factor)
    elif t.lr_decay:
        lr = keras.optimizers.schedules.InverseTimeDecay(t.learning_rate, 1, t.lr_decay)
    return make_optimizer(t.optimizer, lr, **({"momentum": t.momentum} if t.optimizer == "sgd" else {}))


def _positive_weights(ds, limit: int = 200_000) -> np.ndarray:
    """neg/pos per feature from the first ``limit`` samples, clipped to [1, 100]."""
    pos = np.zeros(ds.n_features)
    n = 0
    for _, _, y in ds.iter_blocks(8192):
        pos += y.sum(0)
        n += len(y)
        if n >= limit:
            break
    return np.clip((n - pos) / np.maximum(pos, 1), 1.0, 100.0).astype(np.float32)


def _epoch_batches(ds, cfg: Config, steps: int):
    """``(epoch, context=None) -> that epoch's float32 batches``, ``steps`` of them (``stream.epoch_stream``)."""
    from chromseq.data.stream import epoch_stream

    d = cfg.data
    return epoch_stream(ds, batch_size=cfg.train.batch_size, steps=steps, seed=cfg.seed, block_size=d.block_size,
                        shuffle_buffer_blocks=d.shuffle_buffer_blocks, rc_augment=d.rc_augment)


def train(
    config: Config | dict | str | Path,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    overrides: Iterable[str] = (),
    callbacks: Iterable = (),
) -> Path:
    """Train a model from a config (object, mapping or YAML path) and return its run directory.

    Assembles the model, the training stream and the validation arrays from the config and hands
    them to ``chromseq.training.fit`` (the run-directory lock, checkpoints, exact resume, early
    stopping, NaN stop); then writes ``metrics.json`` (whole validation set, best model).

    >>> train("configs/demo.yaml", overrides=["train.epochs=1"])   # doctest: +SKIP
    PosixPath('runs/demo')
    """
    import keras

    from chromseq.data import open_dataset
    from chromseq.models import build_model
    from chromseq.models.layers import set_fast_cpu_kernels
    from chromseq.training.callbacks import PredictionSnapshots, validation_metrics
    from chromseq.training.core import fit, multilabel_validation
    from chromseq.training.devices import (
        configure_runtime,
        describe_devices,
        make_strategy,
        set_precision,
    )
    from chromseq.training.losses import WeightedBCE

    cfg = _resolve_config(config, overrides)
    run_dir = Path(run_dir) if run_dir else cfg.resolved_run_dir
    check_writable(run_dir, folder=True)  # before any work: "<run_dir>: cannot write here: permission denied"
    strategy = make_strategy(cfg.device.strategy)  # first: multi-worker collectives need a fresh runtime
    configure_runtime(cfg.device.threads, cfg.device.deterministic, cfg.seed)
    set_fast_cpu_kernels(cfg.device.fast_cpu_kernels)
    policy = set_precision(cfg.device.mixed_precision)
    devices = describe_devices()
    print(f"device: {devices['using']}" + ("" if devices["gpus"] else " (no CUDA GPU visible)")
          + f", strategy {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s), {policy}",
          flush=True)

    d = cfg.data
    train_ds = open_dataset(d.train, max_samples=d.max_samples, crop=d.crop, features=d.features, alphabet=d.alphabet)
    valid_ds = open_dataset(d.valid, max_samples=d.max_valid_samples, crop=d.crop, features=d.features,
                            alphabet=d.alphabet)
    if not train_ds.has_labels or not valid_ds.has_labels:
        raise ChromseqError("training and validation files need labels")
    if (valid_ds.seq_len, valid_ds.n_features) != (train_ds.seq_len, train_ds.n_features):
        raise ChromseqError(f"{d.valid}: {valid_ds.seq_len} bp x {valid_ds.n_features} features does not match "
                            f"{d.train}: {train_ds.seq_len} bp x {train_ds.n_features} features")
    if valid_ds.alphabet != train_ds.alphabet:
        raise ChromseqError(f"{d.valid} alphabet {valid_ds.alphabet} differs from {d.train} ({train_ds.alphabet})")
    valid_x, valid_y = valid_ds.load()
    table = _feature_table(cfg, Path(d.train), train_ds.total_features, train_ds.features)
    steps = math.ceil(train_ds.n_samples / cfg.train.batch_size)
    if cfg.train.steps_per_epoch:
        steps = min(steps, cfg.train.steps_per_epoch)

    def build():
        model = build_model(cfg.model.name, train_ds.seq_len, train_ds.n_features, **cfg.model.params)
        loss = (WeightedBCE(_positive_weights(train_ds).tolist()) if cfg.train.class_weights
                else keras.losses.BinaryCrossentropy())
        model.compile(optimizer=_optimizer(cfg, steps), loss=loss, jit_compile=cfg.device.jit_compile)
        return model

    def record(out: Path) -> None:
        runs.atomic_write_text(out / runs.CONFIG_FILE, cfg.to_yaml())
        runs.write_json(out / runs.ENV_FILE, _environment(cfg, devices, policy, strategy))
        runs.write_run_info(out, runs.RunInfo(
            path=out, alphabet=train_ds.alphabet, seq_len=train_ds.seq_len, n_features=train_ds.n_features,
            extra={"train": str(d.train), "valid": str(d.valid), "test": d.test, "crop": d.crop,
                   "full_length": train_ds.full_len, "model": cfg.model.name,
                   "n_train": train_ds.n_samples, "n_valid": valid_ds.n_samples,
                   "features": None if train_ds.features is None else train_ds.features.tolist()}))
        table.write_tsv(out / runs.FEATURES_FILE)

    rng = np.random.default_rng(cfg.seed)
    snap = np.sort(rng.choice(len(valid_x), min(cfg.train.snapshot_samples, len(valid_x)), replace=False))
    snapshots = ([PredictionSnapshots(run_dir / runs.SNAPSHOT_DIR, valid_x[snap], valid_y[snap], train_ds.alphabet)]
                 if is_chief(strategy) else [])
    t = cfg.train
    result = fit(build, _epoch_batches(train_ds, cfg, steps),
                 multilabel_validation(valid_x, valid_y, batch_size=max(t.batch_size, 256)), run_dir,
                 epochs=t.epochs, steps_per_epoch=steps, monitor=t.monitor, patience=t.early_stopping_patience,
                 reduce_lr={"factor": t.lr_factor, "patience": t.lr_patience} if t.lr_schedule == "plateau" else None,
                 resume=resume, overwrite=overwrite, strategy=strategy, verbose=t.verbose,
                 callbacks=[*snapshots, *callbacks], on_new_run=record,
                 check_resumed=lambda model, run: _check_compatible(model, train_ds, run))
    if result.model is not None and is_chief(strategy):
        from chromseq.inference import predict_batches

        metrics = validation_metrics(valid_y, predict_batches(result.model, valid_x, batch_size=256))
        runs.write_json(run_dir / runs.METRICS_FILE, {
            **metrics, "split": "valid", "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "monitor": t.monitor, "stopped_early": result.stopped_early})
        print(f"best epoch {result.best_epoch}: val_auroc {metrics['auroc']:.4f}, val_f1 {metrics['f1']:.4f}, "
              f"val_perplexity {metrics['perplexity']:.4f}; model in {run_dir / runs.MODEL_FILE}", flush=True)
    train_ds.close()
    valid_ds.close()
    return run_dir


def _check_compatible(model, ds, run_dir: Path) -> None:
    length = model.input_shape[1]
    info = runs.read_run_info(run_dir)
    length = length or info.seq_len
    if length is not None and length != ds.seq_len:
        raise ChromseqError(f"{ds.path}: sequences of {ds.seq_len} bp but the saved model in {run_dir} "
                            f"takes {length} bp")
    if model.output_shape[-1] != ds.n_features:
        raise ChromseqError(f"{ds.path}: {ds.n_features} features but the saved model in {run_dir} "
                            f"predicts {model.output_shape[-1]}")
