"""``train(config)``: stream the data, build or resume the model, fit, and record the run."""

from __future__ import annotations

import contextlib
import json
import math
import platform
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.config import Config, config_from_dict, load_config
from chromseq.errors import ChromseqError, reraise_input_errors
from chromseq.outputs import check_writable


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


def _train_dataset(ds, cfg: Config, first_epoch: int, steps: int, multi_worker: bool):
    import tensorflow as tf

    from chromseq.data.stream import as_float, tf_batches

    d = cfg.data

    def epoch_batches(epoch):
        return tf_batches(ds, epoch, batch_size=cfg.train.batch_size, seed=cfg.seed, block_size=d.block_size,
                          shuffle_buffer_blocks=d.shuffle_buffer_blocks, rc_augment=d.rc_augment).take(steps)

    data = as_float(tf.data.Dataset.range(first_epoch, cfg.train.epochs).flat_map(epoch_batches))
    if multi_worker:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        data = data.with_options(options)
    return data


# what ``train`` writes into a run directory: an unfinished run holds nothing else
_RUN_ENTRIES = {runs.CONFIG_FILE, runs.ENV_FILE, runs.DATASET_FILE, runs.FEATURES_FILE, runs.HISTORY_FILE,
                runs.METRICS_FILE, runs.MODEL_FILE, runs.CHECKPOINT_DIR, runs.SNAPSHOT_DIR, runs.TENSORBOARD_DIR}


def completed_state(run_dir: Path) -> dict | None:
    """``checkpoints/state.json`` of a run with at least one completed epoch (and its ``last.keras``), else None."""
    state_path = run_dir / runs.CHECKPOINT_DIR / "state.json"
    if not state_path.exists() or not (run_dir / runs.CHECKPOINT_DIR / "last.keras").exists():
        return None
    state = json.loads(state_path.read_text())
    return state if int(state.get("epoch", 0)) >= 1 else None


def _clear_run_dir(run_dir: Path) -> None:
    """Remove everything in ``run_dir`` but the lock file (which this process holds)."""
    for entry in run_dir.iterdir():
        if entry.name == runs.LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _prepare_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> dict | None:
    """The state to resume from, or None for a fresh start in an empty ``run_dir`` (created, locked by the caller).

    A run directory without a completed epoch (killed or failed in its first epoch) is started
    over, by a plain rerun and by ``--resume`` alike, provided it holds only what ``train``
    writes; anything else there needs ``--overwrite``.
    """
    state = completed_state(run_dir)
    if resume and state is not None:
        return state
    entries = [e for e in run_dir.iterdir() if e.name != runs.LOCK_FILE]
    unfinished = state is None and all(e.name in _RUN_ENTRIES or (e.name.startswith(".") and ".partial" in e.name)
                                       for e in entries)
    if resume:
        if entries and not unfinished:
            raise ChromseqError(f"{run_dir}: nothing to resume (no completed epoch) and it holds files that "
                                "chromseq train did not write; use --overwrite to replace it")
        print(f"{run_dir}: no completed epoch to resume; starting from scratch", flush=True)
    elif entries and not overwrite:
        if not unfinished:
            raise ChromseqError(f"{run_dir}: run directory already exists; use --overwrite to replace it "
                                "or --resume to continue it")
        print(f"{run_dir}: holds no completed epoch (an interrupted start); starting over", flush=True)
    _clear_run_dir(run_dir)
    return None


def _truncate_history(path: Path, epochs: int) -> None:
    """Keep the header and the rows of the first ``epochs`` epochs (a killed epoch may have logged its row)."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    keep = lines[:1] + [line for line in lines[1:]
                        if line.split(",", 1)[0].strip().isdigit() and int(line.split(",", 1)[0]) < epochs]
    if keep != lines:
        runs.atomic_write_text(path, "".join(keep))


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

    The run directory is locked for the whole run (a second ``train`` into it is refused). With
    ``resume``, training continues after the last completed epoch with the weights, optimizer
    state, dropout generators, data order, plateau / early-stopping state and history of that
    epoch (on CPU the result is the same as an uninterrupted run); without a completed epoch it
    starts from scratch. A NaN / infinite loss stops with ``ChromseqError``.

    >>> train("configs/demo.yaml", overrides=["train.epochs=1"])   # doctest: +SKIP
    PosixPath('runs/demo')
    """
    with contextlib.ExitStack() as held:  # the run-directory lock, released however train ends
        return _train(config, run_dir, resume=resume, overwrite=overwrite, overrides=overrides,
                      callbacks=callbacks, held=held)


def _train(config, run_dir, *, resume: bool, overwrite: bool, overrides: Iterable[str], callbacks: Iterable,
           held: contextlib.ExitStack) -> Path:
    import keras

    from chromseq.data import open_dataset
    from chromseq.models import build_model
    from chromseq.training.callbacks import (
        Checkpoints,
        PredictionSnapshots,
        ResumablePlateau,
        StopOnNonFiniteLoss,
        ValidationMetrics,
        restore_seed_states,
    )
    from chromseq.training.devices import (
        configure_runtime,
        describe_devices,
        is_chief,
        make_strategy,
        set_precision,
    )
    from chromseq.training.losses import WeightedBCE

    cfg = _resolve_config(config, overrides)
    run_dir = Path(run_dir) if run_dir else cfg.resolved_run_dir
    check_writable(run_dir, folder=True)  # before any work: "<run_dir>: cannot write here: permission denied"
    strategy = make_strategy(cfg.device.strategy)  # first: multi-worker collectives need a fresh runtime
    configure_runtime(cfg.device.threads, cfg.device.deterministic, cfg.seed)
    chief = is_chief(strategy)
    multi_worker = cfg.device.strategy == "multi_worker"
    if chief:  # one train per run directory: a second one is refused while this one runs
        held.enter_context(runs.lock_run_dir(run_dir))
    state = _prepare_run_dir(run_dir, resume, overwrite) if chief else None
    if not chief:  # other workers write their (identical) checkpoints somewhere private
        import tempfile

        run_dir = Path(tempfile.mkdtemp(prefix="chromseq-worker-"))
        if resume:
            state = completed_state(Path(cfg.resolved_run_dir))
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

    first_epoch = int(state["epoch"]) if state else 0
    with strategy.scope():
        if state:
            model = runs.load_model(run_dir / runs.CHECKPOINT_DIR / "last.keras", compile=True)
            _check_compatible(model, train_ds, run_dir)
            restore_seed_states(model, state.get("rng"))  # dropout masks continue where they were
            saved = int(model.optimizer.iterations.numpy())
            if state.get("iterations") not in (None, saved):
                print(f"warning: {run_dir}: {runs.CHECKPOINT_DIR}/last.keras is at step {saved} but state.json "
                      f"at step {state['iterations']} (killed while saving?); resuming from the checkpoint as it is",
                      file=sys.stderr, flush=True)
        else:
            model = build_model(cfg.model.name, train_ds.seq_len, train_ds.n_features, **cfg.model.params)
            loss = (WeightedBCE(_positive_weights(train_ds).tolist()) if cfg.train.class_weights
                    else keras.losses.BinaryCrossentropy())
            model.compile(optimizer=_optimizer(cfg, steps), loss=loss, jit_compile=cfg.device.jit_compile)

    if chief and not state:
        runs.atomic_write_text(run_dir / runs.CONFIG_FILE, cfg.to_yaml())
        runs.write_json(run_dir / runs.ENV_FILE, _environment(cfg, devices, policy, strategy))
        runs.write_run_info(run_dir, runs.RunInfo(
            path=run_dir, alphabet=train_ds.alphabet, seq_len=train_ds.seq_len, n_features=train_ds.n_features,
            extra={"train": str(d.train), "valid": str(d.valid), "test": d.test, "crop": d.crop,
                   "full_length": train_ds.full_len, "model": cfg.model.name,
                   "features": None if train_ds.features is None else train_ds.features.tolist()}))
        table.write_tsv(run_dir / runs.FEATURES_FILE)
    if state:
        print(f"resuming {run_dir} after epoch {first_epoch} of {cfg.train.epochs}", flush=True)
        if chief:
            _truncate_history(run_dir / runs.HISTORY_FILE, first_epoch)
    if first_epoch >= cfg.train.epochs or (state and state.get("stopped_early")):
        print("nothing left to train", flush=True)
        return run_dir

    rng = np.random.default_rng(cfg.seed)
    snap = np.sort(rng.choice(len(valid_x), min(cfg.train.snapshot_samples, len(valid_x)), replace=False))
    # the guard runs right after the validation metrics: a NaN epoch reaches no log and no checkpoint
    cb = [ValidationMetrics(valid_x, valid_y, batch_size=max(cfg.train.batch_size, 256), alphabet=train_ds.alphabet),
          StopOnNonFiniteLoss(run_dir)]
    stateful = {}
    if cfg.train.lr_schedule == "plateau":
        stateful["plateau"] = ResumablePlateau(
            monitor=cfg.train.monitor, factor=cfg.train.lr_factor, patience=cfg.train.lr_patience,
            mode="min" if cfg.train.monitor.endswith(("loss", "perplexity")) else "max",
            state=(state or {}).get("callbacks", {}).get("plateau"))
        cb.append(stateful["plateau"])
    cb += [keras.callbacks.CSVLogger(str(run_dir / runs.HISTORY_FILE), append=bool(state)),
           PredictionSnapshots(run_dir / runs.SNAPSHOT_DIR, valid_x[snap], valid_y[snap], train_ds.alphabet),
           Checkpoints(run_dir / runs.CHECKPOINT_DIR, cfg.train.monitor, cfg.train.early_stopping_patience, state,
                       stateful=stateful)]
    if chief:
        cb.append(keras.callbacks.TensorBoard(str(run_dir / runs.TENSORBOARD_DIR), write_graph=False))
    cb += list(callbacks)

    data = _train_dataset(train_ds, cfg, first_epoch, steps, multi_worker)
    with reraise_input_errors():  # a bad block of the training file: its ChromseqError, not TensorFlow's wrapper
        if multi_worker:
            from chromseq.training.custom_loop import fit_distributed

            fit_distributed(model, strategy, data, epochs=cfg.train.epochs, initial_epoch=first_epoch,
                            steps_per_epoch=steps, callbacks=cb, verbose=cfg.train.verbose)
        else:
            model.fit(data, epochs=cfg.train.epochs, initial_epoch=first_epoch, steps_per_epoch=steps,
                      callbacks=cb, verbose=cfg.train.verbose, shuffle=False)  # the stream shuffles

    best = run_dir / runs.CHECKPOINT_DIR / "best.keras"
    final = runs.load_model(best if best.exists() else run_dir / runs.CHECKPOINT_DIR / "last.keras")
    from chromseq.inference import predict_batches
    from chromseq.training.callbacks import save_model_atomic, validation_metrics

    if chief:
        save_model_atomic(final, run_dir / runs.MODEL_FILE)
        final_state = json.loads((run_dir / runs.CHECKPOINT_DIR / "state.json").read_text())
        metrics = validation_metrics(valid_y, predict_batches(final, valid_x, batch_size=256))
        runs.write_json(run_dir / runs.METRICS_FILE, {
            **metrics, "split": "valid", "best_epoch": final_state["best_epoch"], "epochs_run": final_state["epoch"],
            "monitor": cfg.train.monitor, "stopped_early": final_state["stopped_early"]})
        print(f"best epoch {final_state['best_epoch']}: val_auroc {metrics['auroc']:.4f}, val_f1 {metrics['f1']:.4f}, "
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
