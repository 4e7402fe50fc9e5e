"""Train, evaluate and sample genome language models; run directories as for chromseq train."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.errors import ChromseqError
from chromseq.lm.data import load_genome, windows

GENOME_FILE = "genome.json"


@dataclass
class LMModelConfig:
    cell: str = "gru"            # gru | lstm | simple | cwrnn
    units: int = 128
    layers: int = 2
    embedding_dim: int = 8
    dropout: float = 0.0


@dataclass
class LMDataConfig:
    seq_len: int = 100
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    skip_n: bool = True          # drop windows with N (else their N targets are masked out of the loss)


@dataclass
class LMTrainConfig:
    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 2e-3
    minutes: float | None = None  # stop after this many minutes (checked after every step)
    patience: int | None = 3
    verbose: int = 1


@dataclass
class LMConfig:
    name: str = "lm"
    seed: int = 0
    model: LMModelConfig = field(default_factory=LMModelConfig)
    data: LMDataConfig = field(default_factory=LMDataConfig)
    train: LMTrainConfig = field(default_factory=LMTrainConfig)

    def to_dict(self) -> dict:
        import dataclasses

        return dataclasses.asdict(self)


def load_lm_config(source: str | os.PathLike | dict | None, overrides=()) -> LMConfig:
    """Validate an LM config (YAML path or mapping) the same way as training configs."""
    import yaml

    from chromseq.config import _build, apply_overrides

    if source is None:
        data = {}
    elif isinstance(source, dict):
        data = dict(source)
    else:
        path = Path(source)
        if not path.exists():
            raise ChromseqError(f"{path}: config file not found")
        data = yaml.safe_load(path.read_text()) or {}
    cfg = _build(LMConfig, apply_overrides(data, overrides), "")
    for key in ("seq_len",):
        if getattr(cfg.data, key) <= 1:
            raise ChromseqError(f"config field data.{key}: must be at least 2")
    if cfg.train.batch_size <= 0 or cfg.train.epochs <= 0:
        raise ChromseqError("config fields train.batch_size and train.epochs must be positive")
    if cfg.train.learning_rate <= 0:
        raise ChromseqError(f"config field train.learning_rate: must be positive, got {cfg.train.learning_rate}")
    return cfg


def _xy(w: np.ndarray):
    x = w[:, :-1].astype(np.int32)
    y = w[:, 1:].astype(np.int32)
    weight = (y < 4).astype(np.float32)
    return x, np.minimum(y, 3), weight


def _scores(model, parts: list[np.ndarray], seq_len: int, batch_size: int = 256) -> tuple[float, float, int]:
    """(mean next-base cross-entropy in nats, accuracy of the most likely base, bases scored)."""
    stride = max(1, seq_len // 2)
    total, hits, count = 0.0, 0.0, 0.0
    for part in parts:
        n = (len(part) - 1 - seq_len) // stride + 1
        if len(part) <= seq_len or n <= 0:
            continue
        starts = np.arange(n) * stride
        w = part[starts[:, None] + np.arange(seq_len + 1)]
        x, y, weight = _xy(w)
        weight[1:, : seq_len - stride] = 0.0  # already scored by the previous window
        for i in range(0, len(x), batch_size):
            p = np.asarray(model(x[i : i + batch_size], training=False))
            yb, wb = y[i : i + batch_size], weight[i : i + batch_size]
            picked = np.take_along_axis(p, yb[..., None], -1)[..., 0]
            total += float(-(np.log(np.clip(picked, 1e-12, 1)) * wb).sum())
            hits += float(((p.argmax(-1) == yb) * wb).sum())
            count += float(wb.sum())
    if count == 0:
        return float("nan"), float("nan"), 0
    return total / count, hits / count, int(count)


def cross_entropy(model, parts: list[np.ndarray], seq_len: int, batch_size: int = 256) -> tuple[float, int]:
    """Mean next-base cross-entropy (nats) on held-out regions, and the number of bases scored.

    Windows overlap by half: each base is scored once, in the second half of a window, so it is
    predicted from at least ``seq_len // 2`` bases of context (only a region's first window is
    scored from its start). N targets are not scored.
    """
    ce, _, n = _scores(model, parts, seq_len, batch_size)
    return ce, n


def lm_validation(parts: list[np.ndarray], seq_len: int):
    """``model -> {loss, perplexity, accuracy}`` per base over the held-out ``parts`` (for ``fit``)."""

    def evaluate(model) -> dict[str, float]:
        ce, accuracy, _ = _scores(model, parts, seq_len)
        return {"loss": ce, "perplexity": math.exp(ce), "accuracy": accuracy}

    return evaluate


def train_lm(fasta: str | os.PathLike, config: str | os.PathLike | dict | None, run_dir: str | os.PathLike, *,
             resume: bool = False, overwrite: bool = False, overrides=()) -> Path:
    """Train a next-nucleotide model on the training region of ``fasta`` with ``chromseq.training.fit``.

    Each epoch draws windows of ``data.seq_len + 1`` bases at random starts (seeded by seed and
    epoch: x (W, seq_len) int32 base indices, y the next bases, N targets weighted 0); the
    validation region's per-base perplexity picks the best checkpoint and drives early stopping
    (``train.patience``); ``train.minutes`` is a time budget checked after every step (the
    epoch in progress is then closed and checkpointed; ``resume`` continues with the next one).
    """
    import keras

    from chromseq.lm.model import build_lm
    from chromseq.training.callbacks import TimeBudget
    from chromseq.training.core import fit
    from chromseq.training.optimizers import FusedAdam

    cfg = load_lm_config(config, overrides)
    d, t = cfg.data, cfg.train
    genome = load_genome(fasta, valid_fraction=d.valid_fraction, test_fraction=d.test_fraction, min_length=d.seq_len + 1)
    for region in ("valid", "test"):
        if max((len(p) for p in getattr(genome, region)), default=0) <= d.seq_len:
            raise ChromseqError(f"sequence length {d.seq_len} exceeds the {region} region "
                                f"({max(len(p) for p in getattr(genome, region))} bp); use a shorter data.seq_len")
    keras.utils.set_random_seed(cfg.seed)

    def build():
        model = build_lm(**vars(cfg.model))
        model.compile(FusedAdam(t.learning_rate), "sparse_categorical_crossentropy", weighted_metrics=[])
        return model

    def epoch_windows(epoch: int):
        rng = np.random.default_rng([cfg.seed, epoch])
        w = windows(genome.train, d.seq_len, rng=rng, skip_n=d.skip_n)
        return _xy(w[rng.permutation(len(w))])

    def record(out: Path) -> None:
        import yaml

        runs.atomic_write_text(out / runs.CONFIG_FILE, yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        runs.write_json(out / GENOME_FILE, {"fasta": str(fasta), **genome.describe()})

    fit(build, epoch_windows, lm_validation(genome.valid, d.seq_len), run_dir, epochs=t.epochs,
        batch_size=t.batch_size, shuffle=False, seed=cfg.seed, monitor="val_loss", patience=t.patience,
        resume=resume, overwrite=overwrite, verbose=t.verbose, on_new_run=record, run_files=[GENOME_FILE],
        callbacks=[TimeBudget(t.minutes)] if t.minutes is not None else [])
    return Path(run_dir)


def evaluate_lm(run_dir: str | os.PathLike, fasta: str | os.PathLike | None = None, *,
                markov_orders=range(13), alpha: float = 0.5) -> dict:
    """Held-out (test region) perplexity and bits per base, beside order-k Markov perplexities."""
    from chromseq.lm.markov import markov_table

    run_dir = Path(run_dir)
    cfg = load_lm_config(run_dir / runs.CONFIG_FILE)
    fasta = fasta or json.loads((run_dir / GENOME_FILE).read_text())["fasta"]
    genome = load_genome(fasta, valid_fraction=cfg.data.valid_fraction, test_fraction=cfg.data.test_fraction)
    model = runs.load_model(run_dir)
    ce, n = cross_entropy(model, genome.test, cfg.data.seq_len)
    markov = markov_table(genome.train, genome.test, markov_orders, alpha)
    best_k = min(markov, key=lambda k: markov[k] if not math.isnan(markov[k]) else math.inf)
    metrics = {"perplexity": math.exp(ce), "bits_per_base": ce / math.log(2), "cross_entropy_nats": ce,
               "test_bases_scored": n, "markov_perplexity": {str(k): v for k, v in markov.items()},
               "best_markov_order": best_k, "best_markov_perplexity": markov[best_k],
               "beats_best_markov": math.exp(ce) < markov[best_k], **genome.describe()}
    runs.write_json(run_dir / runs.METRICS_FILE, metrics)
    return metrics


def sample_lm(run_dir: str | os.PathLike, length: int, *, temperature: float = 1.0, seed: int = 0,
              prime: str = "", greedy: bool = False, progress: bool | None = None) -> str:
    """Generate ``length`` bases, each drawn from the model's next-base distribution ** (1/temperature).

    Compiled (``chromseq.lm.sample.sample_compiled``): the recurrent state is carried base by
    base over the whole sequence. ``greedy`` takes the most likely base; ``progress`` shows a
    bar on stderr (None: on a terminal only).
    """
    from chromseq.lm.sample import sample_compiled

    if temperature <= 0:
        raise ChromseqError("temperature must be positive")
    model = runs.load_model(Path(run_dir))
    return sample_compiled(model, length, temperature=temperature, seed=seed, prime=prime, greedy=greedy,
                           progress=progress)
