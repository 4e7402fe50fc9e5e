"""The published sweep (Zhang & Kamath): cell x learning rate x sequence length x layers."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

PUBLISHED_GRID = {"cell": ["gru", "lstm"], "learning_rate": [1e-4, 8e-4], "seq_len": [50, 100, 500, 1000],
                  "layers": [2, 3]}


def run_sweep(fasta: str | os.PathLike, out_dir: str | os.PathLike, *, grid: dict | None = None, epochs: int = 1,
              minutes: float | None = None, units: int = 128, batch_size: int = 64, markov: bool = False) -> list[dict]:
    """Train and evaluate one model per grid point; write ``sweep.tsv`` and ``sweep.png``."""
    from chromseq.lm.train import evaluate_lm, train_lm

    grid = grid or PUBLISHED_GRID
    out = Path(out_dir)
    rows = []
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, values))
        name = "_".join(f"{k}{v}" for k, v in point.items())
        cfg = {"name": name, "model": {"cell": point["cell"], "units": units, "layers": point["layers"]},
               "data": {"seq_len": point["seq_len"]},
               "train": {"epochs": epochs, "minutes": minutes, "batch_size": batch_size,
                         "learning_rate": point["learning_rate"], "verbose": 0, "patience": None}}
        run = train_lm(fasta, cfg, out / name, overwrite=True)
        m = evaluate_lm(run, markov_orders=range(0, 13) if markov else [0])
        rows.append({**point, "perplexity": m["perplexity"], "bits_per_base": m["bits_per_base"]})
        print(f"{name}: held-out perplexity {m['perplexity']:.4f}", flush=True)
    from chromseq.outputs import atomic_open

    with atomic_open(out / "sweep.tsv", "w") as fh:
        fh.write("\t".join([*keys, "perplexity", "bits_per_base"]) + "\n")
        for r in rows:
            fh.write("\t".join(str(r[k]) for k in keys) + f"\t{r['perplexity']:.5f}\t{r['bits_per_base']:.5f}\n")
    _plot(rows, keys, out / "sweep.png")
    return rows


def _plot(rows: list[dict], keys: list[str], path: Path) -> None:
    import matplotlib.pyplot as plt

    from chromseq.plots.style import DPI

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=DPI)
    series = {}
    for r in rows:
        label = ", ".join(f"{k}={r[k]}" for k in keys if k != "seq_len")
        series.setdefault(label, []).append((r["seq_len"], r["perplexity"]))
    for label, pts in series.items():
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set(xlabel="sequence length (bp)", ylabel="held-out perplexity", title="Genome language model sweep")
    ax.set_xscale("log")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    from chromseq.plots.style import save_figure

    save_figure(fig, path)
    plt.close(fig)
