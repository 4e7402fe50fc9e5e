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
"""

from __future__ import annotations

import json
import os
import tempfile
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600 files; results should be readable like any other
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    if path.is_dir():
        path = model_path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: model file not found")
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as exc:  # a truncated or foreign file: say which one
        raise ChromseqError(f"{path}: cannot load model ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
