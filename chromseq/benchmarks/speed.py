"""Training and inference speed per model: medians of measurements taken in fresh processes."""

from __future__ import annotations

import statistics

from chromseq.benchmarks.measure import run_isolated

MODELS = ("deepsea", "danq", "gru_stack", "demo_cnn_rnn")
#: training FLOPs per 1000-bp sample (3x the forward pass: 1.1 GFLOP for DeepSEA's)
TRAIN_GFLOP_PER_SAMPLE = {"deepsea": 3.3}


def median_run(runs: list[dict]) -> dict:
    """The run with the median samples/s (the lower one of an even count), with every run's rate."""
    rate = statistics.median_low(r["samples_per_s"] for r in runs)
    best = next(r for r in runs if r["samples_per_s"] == rate)
    return {**best, "runs_samples_per_s": [r["samples_per_s"] for r in runs]}


def loader_speed(path: str, block_size: int) -> dict:
    """Samples/s and peak RSS of the loader alone (no TensorFlow graph) reading ``path``."""
    return run_isolated(["loader", path, f"block_size={block_size}"])


def training_speed(model: str, data: str, *, store: str | None = None, batch_size: int = 64, batches: int = 8,
                   precision: str = "float32", optimizer: str = "adam", repeats: int = 1) -> dict:
    """One model's training rate from the file (``disk``), from arrays (``memory``) and from ``store``.

    Each figure is the median of ``repeats`` runs, the sources alternating so that a slow drift of
    the machine favours none; ``gflops`` where the model's FLOPs per sample are known.
    """
    opts = [f"batch_size={batch_size}", f"batches={batches}", f"precision={precision}", f"optimizer={optimizer}"]
    sources = {"disk": ["train_disk", f"{model}:{data}"], "memory": ["train_memory", f"{model}:{data}"]}
    if store:
        sources["store"] = ["train_disk", f"{model}:{store}"]
    runs: dict[str, list[dict]] = {k: [] for k in sources}
    for i in range(repeats):
        for key in (list(sources) if i % 2 == 0 else list(reversed(sources))):
            runs[key].append(run_isolated([*sources[key], *opts]))
    row = {"model": model, **{k: median_run(v) for k, v in runs.items()}}
    row["gflops"] = TRAIN_GFLOP_PER_SAMPLE.get(model, 0) * row["disk"]["samples_per_s"] or None
    return row


def inference_speed(model: str, data: str, *, samples: int = 1024) -> dict:
    """Samples/s of chromseq's predict path, a bare compiled call and ``model.predict``."""
    return run_isolated(["predict", f"{model}:{data}", f"samples={samples}"])
