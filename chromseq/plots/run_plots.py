"""All of a run's figures in one call (what ``chromseq plot-features`` draws)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.evaluation.tables import read_table


def latest_eval(run_dir: Path) -> Path | None:
    """The run's evaluation folder: eval/test if present, else the newest under eval/."""
    base = run_dir / "eval"
    if (base / "test" / "predictions.npz").exists():
        return base / "test"
    found = sorted(base.glob("*/predictions.npz"), key=lambda p: p.stat().st_mtime)
    return found[-1].parent if found else None


def plot_run(run_dir: str | os.PathLike, eval_dir: str | os.PathLike | None = None,
             out_dir: str | os.PathLike | None = None, features: list[int] | None = None,
             max_rows: int = 1000) -> list[Path]:
    """Draw barcodes, feature maps, map evolution, ROC/PR, AUROC distributions, training curves."""
    from chromseq.data.annotations import FeatureTable
    from chromseq.plots.curves import (
        pick_features,
        plot_auc_distribution,
        plot_roc_pr,
        plot_training_curves,
        read_history,
    )
    from chromseq.plots.feature_maps import (
        _subsample,
        plot_barcodes,
        plot_feature_map,
        plot_map_evolution,
    )

    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir else run_dir / "plots"
    out.mkdir(parents=True, exist_ok=True)
    info = runs.read_run_info(run_dir)
    classes = None
    if (run_dir / runs.FEATURES_FILE).exists():
        classes = FeatureTable.read(run_dir / runs.FEATURES_FILE).feature_class
    made: list[Path] = []

    def mark(name: str) -> Path:
        made.append(out / name)
        return out / name

    snapshots = [dict(np.load(p)) for p in sorted((run_dir / runs.SNAPSHOT_DIR).glob("epoch_*.npz"))]
    if snapshots:
        last = snapshots[-1]
        plot_barcodes(last["x"], info.alphabet, mark("input_barcodes.png"),
                      title="Input sequences of the validation sample (one row per sequence)")
        plot_map_evolution(snapshots, mark("prediction_evolution.png"), classes=classes)
    if (run_dir / runs.HISTORY_FILE).exists():
        history = read_history(run_dir / runs.HISTORY_FILE)
        if history:
            plot_training_curves(history, mark("training_curves.png"))
    eval_dir = Path(eval_dir) if eval_dir else latest_eval(run_dir)
    if eval_dir is not None and (eval_dir / "predictions.npz").exists():
        pred = np.load(eval_dir / "predictions.npz")
        y, p = pred["y_true"], pred["y_pred"]
        rows = read_table(eval_dir / "performance.tsv")
        cls = [r["feature_class"] for r in rows]
        name = eval_dir.name
        sel = _subsample(len(y), max_rows)
        plot_feature_map(y, mark("labels_map.png"), classes=cls, kind="labels", rows=sel,
                         title=f"True labels ({name} set): samples x features")
        plot_feature_map(p, mark("predicted_map.png"), classes=cls, kind="pred", rows=sel,
                         title=f"Predicted probabilities ({name} set)")
        plot_feature_map(p - y, mark("difference_map.png"), classes=cls, kind="diff", rows=sel,
                         title=f"Prediction minus truth ({name} set): red = over-predicted, blue = missed")
        plot_roc_pr(y, p, rows, pick_features(rows, features), mark("roc_pr_curves.png"))
        plot_auc_distribution(rows, mark("auroc_by_class.png"), "auroc")
        plot_auc_distribution(rows, mark("auprc_by_class.png"), "auprc")
    return made
