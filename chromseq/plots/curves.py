"""ROC and PR curves, per-class AUROC distributions and training curves.

Each ``plot_*`` returns its Figure, draws into ``ax=``/``axes=`` when given and writes ``path``
when given (see ``chromseq.plots.style``).
"""

from __future__ import annotations

import csv
import math
import os

import matplotlib
import numpy as np
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import precision_recall_curve, roc_curve

from chromseq.plots.style import class_color, finish, several_axes, single_axes


def pick_features(rows: list[dict], chosen: list[int] | None = None) -> list[int]:
    """Chosen features plus the best and worst (by AUROC) of each class."""
    picks = list(chosen or [])
    by_class: dict[str, list[dict]] = {}
    for r in rows:
        if not math.isnan(r["auroc"]):
            by_class.setdefault(r["feature_class"], []).append(r)
    for members in by_class.values():
        members.sort(key=lambda r: r["auroc"])
        for r in (members[-1], members[0]):
            if int(r["index"]) not in picks:
                picks.append(int(r["index"]))
    return picks


def plot_roc_pr(y_true: np.ndarray, y_pred: np.ndarray, rows: list[dict], features: list[int],
                path: str | os.PathLike | None = None, *, axes=None):
    """ROC (left) and precision-recall (right) curves of ``features`` (at most 10) -> Figure.

    ``y_true`` (N, K) 0/1 labels, ``y_pred`` (N, K) scores, ``rows`` the K per-feature metric rows
    (``name``, ``feature_class``, ``auroc``, ``auprc``; from ``per_feature_metrics``).
    ``axes``: two Axes to draw into (ROC, PR); ``path``: also write the picture there. Each PR curve
    has its no-skill line (precision = the feature's prevalence) dotted in its color.
    """
    fig, (ax1, ax2), created = several_axes(axes, 2, (13, 5.5), nrows=1, ncols=2)
    cmap = matplotlib.colormaps["tab10"]
    for n, j in enumerate(features[:10]):
        y, s = y_true[:, j], y_pred[:, j]
        if y.min() == y.max():
            continue
        r = rows[j]
        label = f"{r['name']} ({r['feature_class']})"
        fpr, tpr, _ = roc_curve(y, s)
        prec, rec, _ = precision_recall_curve(y, s)
        ax1.plot(fpr, tpr, color=cmap(n), lw=1.5, label=f"{label}: {_auc(r['auroc'])}")
        ax2.plot(rec, prec, color=cmap(n), lw=1.5, label=f"{label}: {_auc(r['auprc'])}")
        # a classifier without skill has precision = prevalence at every recall
        ax2.axhline(float(np.mean(y)), color=cmap(n), ls=":", lw=1)
    ax1.plot([0, 1], [0, 1], "--", color="gray", lw=1, label="chance")
    ax2.plot([], [], ":", color="gray", lw=1, label="no skill (prevalence), dotted in each color")
    ax1.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curves (legend: AUROC)")
    ax2.set(xlabel="recall", ylabel="precision", title="Precision-recall curves (legend: AUPRC)")
    for ax in (ax1, ax2):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="lower right" if ax is ax1 else "upper right")
    return finish(fig, path, tight=created)


def _auc(value: float) -> str:
    """Legend text: NA (too few positives or no negatives) rather than 'nan'."""
    return "NA (too few positives)" if math.isnan(value) else f"{value:.3f}"


def plot_auc_distribution(rows: list[dict], path: str | os.PathLike | None = None, metric: str = "auroc", *,
                          ax=None):
    """Box plot plus jittered points of ``metric`` per feature class (NA features left out) -> Figure.

    ``rows``: per-feature metric rows (``feature_class`` and ``metric`` keys). ``ax``: the Axes to
    draw into; ``path``: also write the picture there.
    """
    classes = list(dict.fromkeys(r["feature_class"] for r in rows))
    data = [[r[metric] for r in rows if r["feature_class"] == c and not math.isnan(r[metric])] for c in classes]
    fig, ax, created = single_axes(ax, (7, 5))
    ax.boxplot(data, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)
    for i, (c, values) in enumerate(zip(classes, data), 1):
        ax.scatter(i + rng.uniform(-0.18, 0.18, len(values)), values, s=6, alpha=0.5, color=class_color(c))
    ax.set_xticks(range(1, len(classes) + 1), [f"{c}\n(n={len(v)})" for c, v in zip(classes, data)])
    if metric == "auroc":
        ax.axhline(0.5, ls="--", color="gray", lw=1)
    ax.set_ylabel(metric.upper())
    ax.set_title(f"{metric.upper()} per feature, by class")
    return finish(fig, path, tight=created)


def read_history(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) if r[k] not in ("", "nan") else np.nan for r in rows]) for k in rows[0]} if rows else {}


def plot_training_curves(history: dict[str, np.ndarray], path: str | os.PathLike | None = None, *, axes=None):
    """Loss, perplexity, F1 and AUROC/AUPRC per epoch (training and validation) -> Figure.

    ``history``: columns of ``history.csv`` (``read_history``), ``epoch`` from 0. ``axes``: four
    Axes to draw into (any shape, e.g. a 2 x 2 array); ``path``: also write the picture there.
    """
    epochs = history["epoch"] + 1
    panels = [("loss (binary cross-entropy)", ["loss", "val_loss"]),
              ("perplexity = exp(mean BCE)", ["perplexity", "val_perplexity"]),
              ("F1 (features with >= 1 % positives)", ["val_f1", "val_best_f1"]),
              ("ranking", ["val_auroc", "val_auprc"])]
    fig, axes, created = several_axes(axes, 4, (11, 7), nrows=2, ncols=2)
    for ax, (title, keys) in zip(axes, panels):
        for key in keys:
            if key in history:
                ax.plot(epochs, history[key], marker="o", label=key.replace("val_", "validation ").replace("_", " "))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        if ax.get_legend_handles_labels()[0]:  # a panel whose columns the history lacks stays empty
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if created:
        fig.suptitle("Training curves")
    return finish(fig, path, tight=created)
