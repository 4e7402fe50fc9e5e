"""The run directory: what training writes and what eval, plots, interpret and apps read.

Layout of ``runs/<name>/``::

    config.yaml          resolved config (the record of the experiment)
    environment.json     package versions, device, seed, command line
    model.keras          final model (best checkpoint when one exists)
    checkpoints/         best.keras, last.keras, state.json (epoch, data order)
    history.csv          one row per epoch
    metrics.json         final validation metrics
    features.tsv         name, cell_type, element, treatment, class of each output column
    dataset.json         alphabet, sequence length, number of features, data files
    snapshots/           epoch_NNN.npz predicted maps on a fixed validation sample
    tensorboard/         TensorBoard logs
    .lock                held (flock) by the ``chromseq train`` using the directory; holds its pid
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromseq.errors import ChromseqError

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.yaml"
ENV_FILE = "environment.json"
DATASET_FILE = "dataset.json"
FEATURES_FILE = "features.tsv"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"
SNAPSHOT_DIR = "snapshots"
TENSORBOARD_DIR = "tensorboard"
LOCK_FILE = ".lock"


@dataclass
class RunInfo:
    """What a run directory says about its data: enough to feed new inputs to its model."""

    path: Path
    alphabet: str = "AGCT"
    seq_len: int | None = None
    n_features: int | None = None
    task: str = "multilabel"
    extra: dict[str, Any] = field(default_factory=dict)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename, so a crash never leaves half a file."""
    from chromseq.outputs import atomic_open

    with atomic_open(path, "w") as fh:  # a full disk: "<path>: no space left on device"
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def lock_run_dir(run_dir: str | os.PathLike, what: str = "chromseq train") -> Iterator[Path]:
    """Hold an exclusive lock on ``run_dir`` (created if needed) for the life of the block.

    ``fcntl.flock`` on ``run_dir/.lock``: the kernel drops it when the process ends, however it
    ends (``kill -9`` included), so a crashed run never blocks the next one. A second holder is
    refused at once: ``<run_dir>: another chromseq train is using this run directory (pid N)``.
    The lock file stays (removing it would let two processes lock two different files).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ChromseqError(f"{run_dir}: another {what} is using this run directory "
                                f"(pid {_lock_holder(fd)})") from None
        except OSError as exc:  # a file system without locks (some network mounts): run, but say so
            print(f"warning: {run_dir}: cannot lock the run directory ({exc.strerror}); a second {what} "
                  "into it would not be refused", file=sys.stderr, flush=True)
        else:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield run_dir
    finally:
        os.close(fd)  # releases the lock


def _lock_holder(fd: int) -> str:
    for _ in range(20):  # the holder writes its pid just after taking the lock
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text:
            return text
        time.sleep(0.05)
    return "unknown"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON (NaN written as null)."""
    atomic_write_text(path, json.dumps(_nan_to_none(obj), indent=2, sort_keys=False) + "\n")


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return _nan_to_none(obj.item())
    return obj


def write_run_info(run_dir: str | os.PathLike, info: RunInfo) -> None:
    """Record the dataset facts of a run (alphabet, length, features) in ``dataset.json``."""
    data = {"alphabet": info.alphabet, "seq_len": info.seq_len, "n_features": info.n_features,
            "task": info.task, **info.extra}
    write_json(Path(run_dir) / DATASET_FILE, data)


def read_run_info(run_dir: str | os.PathLike) -> RunInfo:
    """Read ``dataset.json`` of a run directory (defaults when it is missing)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ChromseqError(f"{run_dir}: run directory not found")
    path = run_dir / DATASET_FILE
    if not path.exists():
        return RunInfo(path=run_dir)
    data = json.loads(path.read_text())
    return RunInfo(
        path=run_dir,
        alphabet=data.pop("alphabet", "AGCT"),
        seq_len=data.pop("seq_len", None),
        n_features=data.pop("n_features", None),
        task=data.pop("task", "multilabel"),
        extra=data,
    )


def model_path(run_dir: str | os.PathLike) -> Path:
    """The model file of a run: ``model.keras``, else the best or last checkpoint."""
    run_dir = Path(run_dir)
    for candidate in (run_dir / MODEL_FILE, run_dir / CHECKPOINT_DIR / "best.keras",
                      run_dir / CHECKPOINT_DIR / "last.keras"):
        if candidate.exists():
            return candidate
    if not run_dir.is_dir():
        raise ChromseqError(f"{run_dir}: run directory not found")
    raise ChromseqError(f"{run_dir}: no model found (expected {MODEL_FILE} or {CHECKPOINT_DIR}/best.keras)")


def load_model(run_dir_or_file: str | os.PathLike, *, compile: bool = False):
    """Load a chromseq model from a run directory or a ``.keras`` file, custom layers included."""
    import keras

    import chromseq.models  # noqa: F401  (registers the custom layers for deserialization)
    import chromseq.training.losses  # noqa: F401
    import chromseq.training.optimizers  # noqa: F401

    path = Path(run_dir_or_file)
    run_dir = path if path.is_dir() else None
    if run_dir is not None:
        path = model_path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: model file not found")
    try:
        model = keras.saving.load_model(path, compile=compile)
    except Exception as exc:  # a truncated or foreign file: say which one
        raise ChromseqError(f"{path}: cannot load model ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
    if run_dir is not None:
        check_model_fits_run(model, path, read_run_info(run_dir))
    return model


def model_input_length(model) -> int | None:
    """The sequence length a one-hot model takes (None: any length, or not a (L, 4) input)."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        shape = shape[0]
    if not isinstance(shape, tuple) or len(shape) != 3 or shape[-1] != 4:
        return None
    return shape[1]


def check_model_fits_run(model, path: Path, info: RunInfo) -> None:
    """Refuse a model whose input length or number of outputs disagrees with its run's dataset.json
    (a model.keras copied from another run): otherwise the first prediction fails deep in Keras."""
    length = model_input_length(model)
    if length is not None and info.seq_len is not None and length != info.seq_len:
        raise ChromseqError(f"{path}: the model takes sequences of {length} bp but {info.path / DATASET_FILE} "
                            f"says {info.seq_len} bp; the model file belongs to another run")
    outputs = getattr(model, "output_shape", None)
    k = outputs[-1] if isinstance(outputs, tuple) and len(outputs) == 2 else None
    if k is not None and info.n_features is not None and info.task == "multilabel" and k != info.n_features:
        raise ChromseqError(f"{path}: the model predicts {k} features but {info.path / DATASET_FILE} "
                            f"says {info.n_features}; the model file belongs to another run")
