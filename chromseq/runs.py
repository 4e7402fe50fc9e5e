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

and what the commands that read a run write into it::

    eval/<data name>/    performance.tsv, summary.json, predictions.npz  (``chromseq eval``)
    plots/               *.png  (``chromseq plot-features``)
    report.html          (``chromseq report``)
    interpret/<method>/  arrays and figures  (``chromseq interpret``)

``Run.open(path)`` is the one way in for every command that reads a run: its config, its model
(loaded once), its feature table, data files fitted to the model's input, its evaluations and
the paths of what the commands write.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromseq.errors import ChromseqError, warn
from chromseq.outputs import atomic_write_text, write_json

__all__ = ["Evaluation", "FittedData", "Run", "RunInfo", "atomic_write_text", "load_model", "lock_run_dir",
           "read_run_info", "write_json", "write_run_info"]

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.yaml"
ENV_FILE = "environment.json"
DATASET_FILE = "dataset.json"
FEATURES_FILE = "features.tsv"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"
BEST_FILE = "best.keras"            # in CHECKPOINT_DIR: the best epoch by the monitored metric
LAST_FILE = "last.keras"            # in CHECKPOINT_DIR: the last completed epoch (with optimizer state)
STATE_FILE = "state.json"           # in CHECKPOINT_DIR: epoch, counters and RNG states for --resume
SNAPSHOT_DIR = "snapshots"
TENSORBOARD_DIR = "tensorboard"
LOCK_FILE = ".lock"
EVAL_DIR = "eval"
PLOTS_DIR = "plots"
REPORT_FILE = "report.html"
INTERPRET_DIR = "interpret"
EVAL_TABLE = "performance.tsv"
EVAL_SUMMARY = "summary.json"
EVAL_PREDICTIONS = "predictions.npz"


@dataclass
class RunInfo:
    """What a run directory says about its data: enough to feed new inputs to its model."""

    path: Path
    alphabet: str = "AGCT"
    seq_len: int | None = None
    n_features: int | None = None
    task: str = "multilabel"
    extra: dict[str, Any] = field(default_factory=dict)


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
            warn(f"{run_dir}: cannot lock the run directory ({exc.strerror}); a second {what} "
                 "into it would not be refused")
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
    for candidate in (run_dir / MODEL_FILE, run_dir / CHECKPOINT_DIR / BEST_FILE,
                      run_dir / CHECKPOINT_DIR / LAST_FILE):
        if candidate.exists():
            return candidate
    if not run_dir.is_dir():
        raise ChromseqError(f"{run_dir}: run directory not found")
    raise ChromseqError(f"{run_dir}: no model found (expected {MODEL_FILE} or {CHECKPOINT_DIR}/best.keras)")


def load_model(run_dir_or_file: str | os.PathLike, *, compile: bool = False):
    """Load a chromseq model from a run directory or a ``.keras`` file, custom layers included.

    ``compile=True`` (resuming training) needs chromseq's loss and optimizer classes registered:
    the training core imports them.
    """
    import keras

    import chromseq.models  # noqa: F401  (registers the custom layers for deserialization)

    path = Path(run_dir_or_file)
    run_dir = path if path.is_dir() else None
    if run_dir is not None:
        path = model_path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: model file not found")
    try:
        model = keras.saving.load_model(path, compile=compile)
    except Exception as exc:  # a truncated or foreign file: say which one
        raise ChromseqError(f"{path}: cannot load model ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:200]})") from exc
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


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a run: the folder ``eval/<data name>/`` that ``chromseq eval`` writes."""

    dir: Path

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def table(self) -> Path:
        """``performance.tsv``: one row per feature."""
        return self.dir / EVAL_TABLE

    @property
    def summary_file(self) -> Path:
        return self.dir / EVAL_SUMMARY

    @property
    def predictions_file(self) -> Path:
        """``predictions.npz``: y_true, y_pred, names, feature_class."""
        return self.dir / EVAL_PREDICTIONS

    def exists(self) -> bool:
        return self.predictions_file.exists()

    def summary(self) -> dict | None:
        """The parsed ``summary.json`` (None when missing)."""
        return json.loads(self.summary_file.read_text()) if self.summary_file.exists() else None

    def predictions(self) -> dict[str, Any]:
        """The arrays of ``predictions.npz``."""
        import numpy as np

        with np.load(self.predictions_file) as npz:
            return dict(npz)


class FittedData:
    """A data file opened to fit a run's model: center-cropped to its input length, the run's
    feature subset, and read in the run's alphabet (``read``, ``load``, ``iter_blocks``)."""

    def __init__(self, ds, alphabet: str):
        self.ds = ds
        self.alphabet = alphabet

    def __getattr__(self, name: str) -> Any:  # n_samples, n_features, has_labels, features, crop...
        return getattr(self.ds, name)

    def __len__(self) -> int:
        return self.ds.n_samples

    @property
    def crop_offset(self) -> int:
        """Where the model's window starts in the file's sequences (0 without a crop)."""
        return (self.ds.full_len - self.ds.seq_len) // 2

    def _convert(self, x):
        if self.ds.alphabet == self.alphabet:
            return x
        from chromseq.data.encoding import convert_alphabet

        return convert_alphabet(x, self.ds.alphabet, self.alphabet)

    def read(self, start: int = 0, stop: int | None = None):
        """x (n, L, 4) in the run's alphabet, and y (or None) of samples ``start:stop``."""
        x, y = self.ds.read(start, stop)
        return self._convert(x), y

    def load(self):
        return self.read(0, self.ds.n_samples)

    def iter_blocks(self, block_size: int = 16384):
        """Yield ``(start, x, y)`` for consecutive blocks, x in the run's alphabet."""
        for start in range(0, self.ds.n_samples, block_size):
            x, y = self.read(start, start + block_size)
            yield start, x, y

    def close(self) -> None:
        self.ds.close()

    def __enter__(self) -> FittedData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Run:
    """A run directory: what training wrote (config, model, features, dataset facts) and where the
    commands that read it write (evaluations, plots, report, interpretations).

    ``Run.open(path)`` checks the folder; the model is loaded on first use and kept.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._info: RunInfo | None = None
        self._model = None

    @classmethod
    def open(cls, path: str | os.PathLike) -> Run:
        """The run at ``path``; a one-line ChromseqError when it is not a run directory."""
        path = Path(path)
        if not path.is_dir():
            raise ChromseqError(f"{path}: run directory not found")
        markers = (MODEL_FILE, CHECKPOINT_DIR, DATASET_FILE, CONFIG_FILE, EVAL_DIR)
        if not any((path / m).exists() for m in markers):
            raise ChromseqError(f"{path}: not a chromseq run directory (none of {', '.join(markers)})")
        return cls(path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    # what training wrote
    @property
    def info(self) -> RunInfo:
        """``dataset.json``: alphabet, sequence length, number of features, data files."""
        if self._info is None:
            self._info = read_run_info(self.path)
        return self._info

    @property
    def alphabet(self) -> str:
        return self.info.alphabet

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def environment_file(self) -> Path:
        return self.path / ENV_FILE

    @property
    def metrics_file(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def history_file(self) -> Path:
        return self.path / HISTORY_FILE

    @property
    def features_file(self) -> Path:
        return self.path / FEATURES_FILE

    def config(self) -> dict:
        """The resolved config (``config.yaml``) as a dict; empty when missing."""
        import yaml

        return yaml.safe_load(self.config_file.read_text()) or {} if self.config_file.exists() else {}

    def snapshots(self) -> list[Path]:
        """``snapshots/epoch_NNN.npz`` in epoch order."""
        return sorted((self.path / SNAPSHOT_DIR).glob("epoch_*.npz"))

    @property
    def model(self):
        """The run's model, loaded (and checked against ``dataset.json``) on first use."""
        if self._model is None:
            self._model = load_model(self.path)
        return self._model

    @property
    def seq_len(self) -> int | None:
        """The input length: ``dataset.json``'s, else the model's (None: any length)."""
        return self.info.seq_len or model_input_length(self.model)

    @property
    def n_features(self) -> int:
        """The number of outputs of the model."""
        return int(self.model.output_shape[-1])

    def feature_table(self, n_features: int | None = None):
        """``features.tsv`` (checked to hold ``n_features`` rows when given), else unnamed features."""
        from chromseq.data.annotations import FeatureTable

        if self.features_file.exists():
            return FeatureTable.read(self.features_file, n_features=n_features)
        return FeatureTable.default(n_features if n_features is not None else self.n_features)

    @property
    def feature_names(self) -> list[str]:
        """One name per model output."""
        return self.feature_table(self.n_features).names

    def resolve_feature(self, feature: str | None) -> int:
        """A model output index from an index or a name pattern (first match); None is 0."""
        if feature is None:
            return 0
        k = self.n_features
        if feature.strip().isdigit():
            idx = int(feature)
            if idx >= k:
                raise ChromseqError(f"feature {idx} does not exist: the model has features 0..{k - 1}")
            return idx
        if not self.features_file.exists():
            raise ChromseqError(f"{self.path}: no {FEATURES_FILE} to look up feature {feature!r}; give an index")
        return int(self.feature_table(k).select(feature)[0])

    def select_features(self, pattern: str | None):
        """Indices of the outputs whose names match ``pattern`` (or indices ``0,5,7``); all when empty."""
        import numpy as np

        names = self.feature_names
        if not pattern:
            return np.arange(len(names))
        from chromseq.data.annotations import FeatureTable

        na = ["NA"] * len(names)
        return FeatureTable(list(names), na, na, na, na).select(pattern)

    def fit_data(self, data: str | os.PathLike, *, max_samples: int | None = None,
                 feature_subset: bool = True) -> FittedData:
        """Open a one-hot data file (.mat, .h5, .npz) to fit the model's input: sequences longer
        than the model's length center-cropped to it (shorter ones refused), read in the run's
        alphabet, labels restricted to the run's feature subset (``feature_subset``)."""
        from chromseq.data import open_dataset

        length = self.seq_len
        with open_dataset(data, max_samples=1) as probe:
            full = probe.full_len
        crop = None
        if length and full != length:
            if full < length:
                raise ChromseqError(f"{data}: sequences of {full} bp, shorter than the model's {length} bp")
            crop = length  # trained on the center of longer windows
        features = self.info.extra.get("features") if feature_subset else None
        return FittedData(open_dataset(data, max_samples=max_samples, crop=crop, features=features), self.alphabet)

    # what the commands that read a run write into it
    @property
    def eval_root(self) -> Path:
        return self.path / EVAL_DIR

    def evaluation(self, name: str | None = None) -> Evaluation | None:
        """The evaluation ``eval/<name>`` (None when it was not made), or the latest one:
        ``eval/test`` if present, else the newest."""
        if name is not None:
            found = Evaluation(self.eval_root / name)
            return found if found.exists() else None
        if Evaluation(self.eval_root / "test").exists():
            return Evaluation(self.eval_root / "test")
        done = sorted(self.eval_root.glob(f"*/{EVAL_PREDICTIONS}"), key=lambda p: p.stat().st_mtime)
        return Evaluation(done[-1].parent) if done else None

    def evaluation_for(self, data: str | os.PathLike) -> Evaluation:
        """Where ``chromseq eval`` writes the evaluation of ``data``: ``eval/<data stem>``."""
        return Evaluation(self.eval_root / Path(data).stem)

    @property
    def plots_dir(self) -> Path:
        return self.path / PLOTS_DIR

    @property
    def report_file(self) -> Path:
        return self.path / REPORT_FILE

    def interpret_dir(self, method: str) -> Path:
        return self.path / INTERPRET_DIR / method
