"""The one training core: ``fit(model, train_data, valid, run_dir, ...)``.

Every trainer of the package (``train(config)``, the genome language model, the TF-binding
experiment) and a notebook call it. It owns the run directory: the lock, atomic checkpoints
(``checkpoints/best.keras``, ``last.keras``, ``state.json``), exact resume (weights, optimizer,
dropout generators, plateau / early-stopping counters, history rows), ``history.csv``,
TensorBoard, the NaN-loss stop, whole-validation-set metrics and the distributed loop.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chromseq import runs
from chromseq.errors import ChromseqError, reraise_input_errors, warn
from chromseq.outputs import check_writable

BEST_FILE, LAST_FILE, STATE_FILE = runs.BEST_FILE, runs.LAST_FILE, runs.STATE_FILE

# what the core writes into a run directory: an unfinished run holds nothing else
_RUN_ENTRIES = {runs.CONFIG_FILE, runs.ENV_FILE, runs.DATASET_FILE, runs.FEATURES_FILE, runs.HISTORY_FILE,
                runs.METRICS_FILE, runs.MODEL_FILE, runs.CHECKPOINT_DIR, runs.SNAPSHOT_DIR, runs.TENSORBOARD_DIR}


def checkpoint(run_dir: str | Path, name: str) -> Path:
    """``run_dir/checkpoints/<name>`` (``BEST_FILE``, ``LAST_FILE`` or ``STATE_FILE``)."""
    return Path(run_dir) / runs.CHECKPOINT_DIR / name


@dataclass
class FitResult:
    """What ``fit`` leaves: the best model (None when nothing was left to train) and its record."""

    run_dir: Path
    model: Any = None
    best_epoch: int = 0
    epochs_run: int = 0
    stopped_early: bool = False
    monitor: str = "val_loss"
    history: list[dict] = field(default_factory=list)


def completed_state(run_dir: Path) -> dict | None:
    """``checkpoints/state.json`` of a run with at least one completed epoch (and its ``last.keras``), else None."""
    state_path = checkpoint(run_dir, STATE_FILE)
    if not state_path.exists() or not checkpoint(run_dir, LAST_FILE).exists():
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


def _prepare_run_dir(run_dir: Path, resume: bool, overwrite: bool, own: Iterable[str] = ()) -> dict | None:
    """The state to resume from, or None for a fresh start in an empty ``run_dir`` (created, locked by the caller).

    A run directory without a completed epoch (killed or failed in its first epoch) is started
    over, by a plain rerun and by ``resume`` alike, provided it holds only what training writes
    (``_RUN_ENTRIES`` and ``own``); anything else there needs ``overwrite``.
    """
    state = completed_state(run_dir)
    if resume and state is not None:
        return state
    known = _RUN_ENTRIES | set(own)
    entries = [e for e in run_dir.iterdir() if e.name != runs.LOCK_FILE]
    unfinished = state is None and all(e.name in known or (e.name.startswith(".") and ".partial" in e.name)
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


def _read_history(path: Path) -> list[dict]:
    import csv

    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [{k: (float(v) if v not in ("", None) else math.nan) for k, v in row.items()}
                for row in csv.DictReader(fh)]


def _array_stream(arrays, *, first_epoch: int, epochs: int, steps_per_epoch: int | None, batch_size: int,
                  shuffle: bool, seed: int):
    """Arrays (fixed, or a callable ``epoch -> arrays``) as one ``tf.data`` stream over the remaining epochs.

    Every epoch yields the same number of batches, ``steps_per_epoch`` or those of the first
    epoch's arrays (an epoch whose arrays are longer stops early, a shorter one starts over).
    Its arrays and sample order (``np.random.default_rng([seed, epoch])``) depend on the epoch
    alone, so a resumed epoch replays the same batches. Returns (dataset, steps per epoch).
    """
    import tensorflow as tf

    def epoch_arrays(epoch: int) -> tuple:
        return tuple(np.asarray(a) for a in (arrays(epoch) if callable(arrays) else arrays))

    first = epoch_arrays(first_epoch)
    steps = steps_per_epoch or max(1, math.ceil(len(first[0]) / batch_size))
    signature = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in first)

    def batches():
        for epoch in range(first_epoch, epochs):
            data = first if epoch == first_epoch or not callable(arrays) else epoch_arrays(epoch)
            n = len(data[0])
            order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
            order = np.resize(order, max(n, steps * batch_size))  # a shorter epoch starts over
            for step in range(steps):
                idx = order[step * batch_size : (step + 1) * batch_size]
                yield tuple(a[idx] for a in data)

    data = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return data.prefetch(tf.data.AUTOTUNE), steps


def _training_stream(train_data, *, first_epoch: int, epochs: int, steps_per_epoch: int | None, batch_size: int,
                     shuffle: bool, seed: int):
    """(dataset, steps per epoch): one stream over all remaining epochs (a plain Dataset is passed through)."""
    import tensorflow as tf

    if isinstance(train_data, tf.data.Dataset):
        return train_data, steps_per_epoch
    if callable(train_data):
        probe = train_data(first_epoch)
        if isinstance(probe, tf.data.Dataset):  # epoch -> that epoch's batches: chained, ``steps`` each
            if not steps_per_epoch:
                raise ValueError("a callable returning tf.data.Dataset batches needs steps_per_epoch")
            data = tf.data.Dataset.range(first_epoch, epochs).flat_map(train_data)
            return data.prefetch(tf.data.AUTOTUNE), steps_per_epoch
        arrays = lambda epoch: probe if epoch == first_epoch else train_data(epoch)  # noqa: E731
    else:
        arrays = tuple(train_data)
    return _array_stream(arrays, first_epoch=first_epoch, epochs=epochs, steps_per_epoch=steps_per_epoch,
                         batch_size=batch_size, shuffle=shuffle, seed=seed)


def multilabel_validation(x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> Callable[[Any], dict]:
    """The default validation: ``model -> {loss, perplexity, auroc, auprc, f1, best_f1}`` on all of x (N, L, 4), y (N, K)."""
    from chromseq.inference import predict_batches
    from chromseq.training.callbacks import validation_metrics

    def evaluate(model) -> dict[str, float]:
        return validation_metrics(y, predict_batches(model, x, batch_size=batch_size))

    return evaluate


def fit(
    model,
    train_data,
    valid,
    run_dir: str | Path,
    *,
    epochs: int,
    batch_size: int = 64,
    steps_per_epoch: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    monitor: str = "val_loss",
    patience: int | None = None,
    reduce_lr: dict | None = None,
    resume: bool = False,
    overwrite: bool = False,
    strategy=None,
    tensorboard: bool = True,
    verbose: int = 1,
    callbacks: Iterable = (),
    on_new_run: Callable[[Path], None] | None = None,
    check_resumed: Callable[[Any, Path], None] | None = None,
    run_files: Iterable[str] = (),
) -> FitResult:
    """Train ``model`` into ``run_dir`` and return the best model with its record.

    Args:
        model: a compiled ``keras.Model``, or a function ``() -> compiled model`` (built inside
            ``strategy.scope()``; only called on a fresh start: a resume loads ``checkpoints/last.keras``).
        train_data: a ``tf.data.Dataset`` of batches ``(x, y[, sample_weight])``; arrays
            ``(x (N, ...), y (N, ...)[, w (N, ...)])`` cut into ``batch_size`` batches, shuffled per
            epoch with ``seed``; or a function ``epoch -> arrays`` (that epoch's samples) or
            ``epoch -> tf.data.Dataset`` (that epoch's batches, ``steps_per_epoch`` of them; the
            epoch may be a scalar tensor). Epoch-dependent data make resume exact. A function
            that also takes ``context=`` (a ``tf.distribute.InputContext``) returns one worker's
            share in per-replica batches: multi-worker training then has each worker read only
            its share (``chromseq.data.stream.epoch_stream``).
        valid: ``(x, y)`` arrays scored with ``multilabel_validation`` (loss, perplexity, AUROC,
            AUPRC, F1, best F1 over the whole set), or a function ``model -> {name: value}``; each
            value is logged as ``val_<name>`` after every epoch.
        run_dir: the run directory (created, locked for the whole call; see ``chromseq.runs``).
        epochs: the total number of epochs (a resumed run continues up to it).
        monitor: the logged value that picks ``best.keras`` (minimized when it ends in ``loss`` or
            ``perplexity``, else maximized); ``patience``: early stopping after that many epochs
            without improvement (None: never); ``reduce_lr``: ``{"factor": f, "patience": p}``
            multiplies the learning rate by f after p epochs without improvement.
        resume: continue after the last completed epoch (exact on CPU); without one, start over.
        overwrite: replace an existing run directory (else it is refused).
        strategy: a ``tf.distribute`` strategy (default: the current one); ``MultiWorkerMirroredStrategy``
            trains with a plain distributed loop (Keras' fit does not run under it); workers other
            than the chief checkpoint into a private folder.
        callbacks: extra Keras callbacks; they run after the validation metrics and before the
            history logger and the checkpoints, so what they add to the logs is recorded.
        on_new_run: ``run_dir -> None``, called (chief only) on a fresh start once the directory is
            ready: write the config and dataset facts there.
        check_resumed: ``(model, run_dir) -> None``, may refuse a resumed model (``ChromseqError``).
        run_files: names the caller writes into ``run_dir`` besides the standard ones (a rerun
            after an interrupted first epoch may clear them).

    Returns:
        ``FitResult`` with the best model (also saved as ``run_dir/model.keras``), best epoch,
        epochs run, whether early stopping ended it, and the rows of ``history.csv``. Raises
        ``ChromseqError`` on a NaN / infinite loss, before anything of that epoch is written.
    """
    with contextlib.ExitStack() as held:  # the run-directory lock, released however fit ends
        return _fit(model, train_data, valid, Path(run_dir), held=held, epochs=epochs, batch_size=batch_size,
                    steps_per_epoch=steps_per_epoch, shuffle=shuffle, seed=seed, monitor=monitor, patience=patience,
                    reduce_lr=reduce_lr, resume=resume, overwrite=overwrite, strategy=strategy,
                    tensorboard=tensorboard, verbose=verbose, callbacks=list(callbacks), on_new_run=on_new_run,
                    check_resumed=check_resumed, run_files=run_files)


def _fit(model, train_data, valid, run_dir: Path, *, held: contextlib.ExitStack, epochs, batch_size, steps_per_epoch,
         shuffle, seed, monitor, patience, reduce_lr, resume, overwrite, strategy, tensorboard, verbose, callbacks,
         on_new_run, check_resumed, run_files) -> FitResult:
    import keras
    import tensorflow as tf

    from chromseq.models.portable import save_portable
    from chromseq.training.callbacks import (
        Checkpoints,
        ResumablePlateau,
        StopOnNonFiniteLoss,
        ValidationMetrics,
        restore_seed_states,
    )
    from chromseq.training.devices import is_chief

    strategy = strategy or tf.distribute.get_strategy()
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    chief = is_chief(strategy)
    state: dict | None = None
    if chief:
        check_writable(run_dir, folder=True)  # "<run_dir>: cannot write here: permission denied"
        held.enter_context(runs.lock_run_dir(run_dir))  # a second trainer into it is refused
        state = _prepare_run_dir(run_dir, resume, overwrite, run_files)
        out_dir = run_dir
    else:  # other workers read the chief's checkpoints and write their (identical) ones somewhere private
        state = completed_state(run_dir) if resume else None
        out_dir = Path(tempfile.mkdtemp(prefix="chromseq-worker-"))

    first_epoch = int(state["epoch"]) if state else 0
    with strategy.scope():
        if state:
            import chromseq.training.losses  # noqa: F401  (registers the loss and optimizer classes
            import chromseq.training.optimizers  # noqa: F401  that a checkpoint's compile config names)

            model = runs.load_model(checkpoint(run_dir, LAST_FILE), compile=True)
            if check_resumed is not None:
                check_resumed(model, run_dir)
            restore_seed_states(model, state.get("rng"))  # dropout masks continue where they were
            saved = int(model.optimizer.iterations.numpy())
            if state.get("iterations") not in (None, saved):
                warn(f"{run_dir}: {runs.CHECKPOINT_DIR}/{LAST_FILE} is at step {saved} but {STATE_FILE} "
                     f"at step {state['iterations']} (killed while saving?); resuming from the checkpoint as it is")
        elif not isinstance(model, keras.Model):
            model = model()
    if chief and not state and on_new_run is not None:
        on_new_run(run_dir)
    if state:
        print(f"resuming {run_dir} after epoch {first_epoch} of {epochs}", flush=True)
        if chief:
            _truncate_history(run_dir / runs.HISTORY_FILE, first_epoch)
    if first_epoch >= epochs or (state and state.get("stopped_early")):
        print("nothing left to train", flush=True)
        return FitResult(run_dir, None, state.get("best_epoch", 0) if state else 0, first_epoch,
                         bool(state and state.get("stopped_early")), monitor, _read_history(run_dir / runs.HISTORY_FILE))

    if isinstance(valid, tuple | list):
        valid = multilabel_validation(*valid)
    # the guard runs right after the validation metrics: a NaN epoch reaches no log and no checkpoint
    cb = [ValidationMetrics(valid), StopOnNonFiniteLoss(run_dir), *callbacks]
    stateful = {}
    mode = "min" if monitor.endswith(("loss", "perplexity")) else "max"
    if reduce_lr:
        stateful["plateau"] = ResumablePlateau(monitor=monitor, mode=mode, factor=reduce_lr["factor"],
                                               patience=reduce_lr["patience"],
                                               state=(state or {}).get("callbacks", {}).get("plateau"))
        cb.append(stateful["plateau"])
    cb += [keras.callbacks.CSVLogger(str(out_dir / runs.HISTORY_FILE), append=bool(state)),
           Checkpoints(out_dir / runs.CHECKPOINT_DIR, monitor, patience, state, stateful=stateful)]
    if chief and tensorboard:
        cb.append(keras.callbacks.TensorBoard(str(out_dir / runs.TENSORBOARD_DIR), write_graph=False))

    data, steps = _training_stream(train_data, first_epoch=first_epoch, epochs=epochs, steps_per_epoch=steps_per_epoch,
                                   batch_size=batch_size, shuffle=shuffle, seed=seed)
    with reraise_input_errors():  # a bad block of the training file: its ChromseqError, not TensorFlow's wrapper
        if multi_worker:
            if not steps:
                raise ChromseqError("multi-worker training needs a stream with steps_per_epoch "
                                    "(a function epoch -> tf.data.Dataset)")
            if _takes_context(train_data):  # each worker builds and reads only its share of the blocks
                def worker_stream(context):
                    return tf.data.Dataset.range(first_epoch, epochs).flat_map(
                        lambda e: train_data(e, context=context)).prefetch(tf.data.AUTOTUNE)

                data = strategy.distribute_datasets_from_function(worker_stream)
            else:  # every worker reads the whole stream and keeps its part
                options = tf.data.Options()
                options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
                data = data.with_options(options)
            fit_distributed(model, strategy, data, epochs=epochs, initial_epoch=first_epoch,
                            steps_per_epoch=steps, callbacks=cb, verbose=verbose)
        else:
            model.fit(data, epochs=epochs, initial_epoch=first_epoch, steps_per_epoch=steps, callbacks=cb,
                      verbose=verbose, shuffle=False)  # the stream shuffles

    best = checkpoint(out_dir, BEST_FILE)
    final = runs.load_model(best if best.exists() else checkpoint(out_dir, LAST_FILE))
    final_state = json.loads(checkpoint(out_dir, STATE_FILE).read_text())
    if chief:  # Keras' own classes: the file loads without chromseq
        save_portable(final, run_dir / runs.MODEL_FILE)
    return FitResult(run_dir, final, final_state["best_epoch"], final_state["epoch"], final_state["stopped_early"],
                     monitor, _read_history(out_dir / runs.HISTORY_FILE))


def _takes_context(train_data) -> bool:
    """Whether ``train_data`` is a function ``(epoch, context=...)`` that can build one worker's share."""
    import inspect

    if not callable(train_data):
        return False
    try:
        return "context" in inspect.signature(train_data).parameters
    except (TypeError, ValueError):
        return False


def fit_distributed(model, strategy, data, *, epochs: int, initial_epoch: int, steps_per_epoch: int,
                    callbacks: list, verbose: int = 1) -> None:
    """A plain distributed loop for ``MultiWorkerMirroredStrategy``, with the same callbacks as ``fit``.

    Keras 3's ``fit`` does not run under it (keras-team/keras#20585: per-replica values reach a
    tensor conversion): ``strategy.run`` per step, the compiled loss averaged over the global
    batch. ``model`` is compiled inside ``strategy.scope()``; ``data`` is a ``tf.data.Dataset``
    of global batches or an already distributed dataset (``distribute_datasets_from_function``).
    The loss is scaled by ``optimizer.scale_loss`` before the gradients are taken (a
    ``LossScaleOptimizer``, which ``compile`` puts in under ``mixed_float16``, divides them by
    its scale in ``apply_gradients``; for other optimizers the scale is 1).
    """
    import keras
    import tensorflow as tf

    cbs = keras.callbacks.CallbackList(callbacks, model=model, add_history=False, add_progbar=verbose > 0,
                                       epochs=epochs, steps=steps_per_epoch, verbose=verbose)
    replicas = strategy.num_replicas_in_sync
    loss_fn, optimizer = model.loss, model.optimizer
    if isinstance(loss_fn, str):  # compiled as model.compile(..., "mse")
        loss_fn = keras.losses.get(loss_fn)
    if isinstance(data, tf.data.Dataset):
        data = strategy.experimental_distribute_dataset(data)
    iterator = iter(data)

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = tf.reduce_mean(loss_fn(y, pred))  # a loss function (not a Loss) gives one value per sample
            if model.losses:
                loss += tf.add_n(model.losses)
            share = loss / replicas  # summed over replicas below = the global mean
            # float16 gradients underflow: scale the loss up; apply_gradients divides the scale out again
            scaled = optimizer.scale_loss(share)
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return share

    @tf.function
    def train_step(it):
        x, y = next(it)
        return strategy.reduce("SUM", strategy.run(replica_step, args=(x, y)), axis=None)

    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        total = 0.0
        for step in range(steps_per_epoch):
            cbs.on_train_batch_begin(step)
            total += float(train_step(iterator))
            cbs.on_train_batch_end(step, {"loss": total / (step + 1)})
        logs = {"loss": total / max(1, steps_per_epoch)}
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
