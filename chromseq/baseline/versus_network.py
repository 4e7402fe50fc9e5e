"""Networks versus the k-mer baseline, feature by feature (Zhang & Kamath's comparison).

Mean F1 of each method over the features with >= 1 % positives, and the share of those features
where each network's F1 beats the baseline's (published: 0.135 vs 0.044; 81.9 % of 498 tasks).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

COMPARE_FILE = "compare.json"
SCATTER_FILE = "f1_scatter.png"


def compare_tables(baseline: list[dict], networks: dict[str, list[dict]], *, metric: str = "f1",
                   min_prevalence: float = 0.01) -> dict:
    """Summary dict of mean ``metric`` per method and win rates, over frequent-enough features."""
    k = len(baseline)
    for name, rows in networks.items():
        if len(rows) != k:
            raise ChromseqError(f"{name}: {len(rows)} features, the baseline has {k}")
    keep = [i for i, r in enumerate(baseline) if not math.isnan(r["prevalence"]) and r["prevalence"] >= min_prevalence]
    if not keep:
        raise ChromseqError(f"no feature has >= {min_prevalence:.0%} positives")
    base = np.array([baseline[i][metric] for i in keep], float)
    out = {"metric": metric, "min_prevalence": min_prevalence, "n_features": len(keep),
           "baseline": {"mean": float(np.nanmean(base))}, "networks": {}}
    for name, rows in networks.items():
        net = np.array([rows[i][metric] for i in keep], float)
        both = ~np.isnan(net) & ~np.isnan(base)
        out["networks"][name] = {"mean": float(np.nanmean(net)),
                                 "wins": int((net[both] > base[both]).sum()),
                                 "share_better": float((net[both] > base[both]).mean()) if both.any() else math.nan}
    out["keep"] = keep
    return out


def plot_scatter(baseline: list[dict], networks: dict[str, list[dict]], keep: list[int], path: str | os.PathLike,
                 metric: str = "f1") -> None:
    """Per-feature ``metric`` of each network against the baseline's, over the features ``keep``."""
    import matplotlib.pyplot as plt

    from chromseq.plots.style import DPI

    fig, ax = plt.subplots(figsize=(6, 6), dpi=DPI)
    base = np.array([baseline[i][metric] for i in keep], float)
    for name, rows in networks.items():
        ax.scatter(base, [rows[i][metric] for i in keep], s=8, alpha=0.6, label=name)
    ax.plot([0, 1], [0, 1], "--", color="gray", lw=1)
    ax.set(xlabel=f"k-mer logistic regression {metric.upper()}", ylabel=f"network {metric.upper()}",
           title=f"Per-feature {metric.upper()} ({len(keep)} features with >= 1 % positives)", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    from chromseq.plots.style import save_figure

    save_figure(fig, path)
    plt.close(fig)


def compare_runs(run_dirs: list[str | os.PathLike], baseline_dir: str | os.PathLike, *, eval_name: str = "test",
                 out_dir: str | os.PathLike = "runs/compare") -> dict:
    """Compare the evaluation ``eval_name`` of each run with a ``chromseq baseline kmer`` output
    folder; writes compare.json and f1_scatter.png into ``out_dir`` and returns the summary
    (``compare_tables`` without ``keep``, plus ``out_dir``)."""
    from chromseq import runs
    from chromseq.baseline.run_baseline import TABLE_FILE
    from chromseq.evaluation.tables import read_table
    from chromseq.outputs import write_json

    base = read_table(Path(baseline_dir) / TABLE_FILE)
    nets = {}
    for r in run_dirs:
        run = runs.Run.open(r)
        table = run.evaluation_for(eval_name).table
        if not table.exists():
            raise ChromseqError(f"{table} not found: run `chromseq eval --run {r} --data <{eval_name} file>` first")
        nets[run.name] = read_table(table)
    result = compare_tables(base, nets)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_scatter(base, nets, result.pop("keep"), out / SCATTER_FILE)
    write_json(out / COMPARE_FILE, result)
    return {**result, "out_dir": str(out)}
