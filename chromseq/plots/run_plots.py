"""All of a run's figures in one call (what ``chromseq plot-features`` draws from a run and its evaluation)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq.runs import Run


def plot_run(run: Run, out_dir: str | os.PathLike | None = None, *, eval_name: str | None = None,
             y_true: np.ndarray | None = None, y_pred: np.ndarray | None = None, rows: list[dict] | None = None,
             features: list[int] | None = None, max_rows: int = 1000) -> list[Path]:
    """Draw barcodes, map evolution and training curves of ``run``, and, given an evaluation
    (labels ``y_true``, predictions ``y_pred`` and its per-feature ``rows``, named ``eval_name``),
    feature maps, ROC/PR curves and AUROC/AUPRC distributions. Returns the files written."""
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

    out = Path(out_dir) if out_dir else run.plots_dir
    out.mkdir(parents=True, exist_ok=True)
    classes = run.feature_table().feature_class if run.features_file.exists() else None
    made: list[Path] = []

    def mark(name: str) -> Path:
        made.append(out / name)
        return out / name

    snapshots = [dict(np.load(p)) for p in run.snapshots()]
    if snapshots:
        last = snapshots[-1]
        plot_barcodes(last["x"], run.alphabet, mark("input_barcodes.png"),
                      title="Input sequences of the validation sample (one row per sequence)")
        plot_map_evolution(snapshots, mark("prediction_evolution.png"), classes=classes)
    if run.history_file.exists():
        history = read_history(run.history_file)
        if history:
            plot_training_curves(history, mark("training_curves.png"))
    if y_true is not None and y_pred is not None and rows is not None:
        y, p = y_true, y_pred
        cls = [r["feature_class"] for r in rows]
        name = eval_name or "evaluation"
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
