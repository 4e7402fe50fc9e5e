"""Per-feature metrics over a whole dataset: AUROC, AUPRC, F1 (at 0.5 and best), perplexity.

All functions take ``y_true`` (N, K) in {0, 1} and ``y_score`` (N, K) probabilities and are
computed over all N samples at once (never averaged over batches: a batch-wise F1 is wrong
for rare features). Features with fewer than ``min_positives`` positives, or no negatives,
get NaN (reported as NA), never 0 or 1. Checked against scikit-learn in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

METRIC_NAMES = ("auroc", "auprc", "f1", "best_f1", "best_threshold")


def _as_2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _ranked_counts(y: np.ndarray, s: np.ndarray):
    """True/false positive counts at each distinct score, scores descending."""
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s) - 1]
    tps = np.cumsum(y_sorted, dtype=np.float64)[last]
    fps = (last + 1) - tps
    return tps, fps, s_sorted[last]


def binary_metrics(y: np.ndarray, s: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """AUROC, AUPRC (average precision), F1 at ``threshold``, best F1 and its threshold for one feature."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    pos = int(y.sum())
    neg = len(y) - pos
    tps, fps, thr = _ranked_counts(y, s)
    tpr = np.r_[0.0, tps / pos] if pos else np.zeros(len(tps) + 1)
    fpr = np.r_[0.0, fps / neg] if neg else np.zeros(len(fps) + 1)
    # the trapezoid rule written out: np.trapezoid is NumPy >= 2, np.trapz is gone from 2.4
    auroc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2) if pos and neg else np.nan
    if pos:
        precision = tps / (tps + fps)
        recall = tps / pos
        auprc = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
        f1s = 2 * tps / (tps + fps + pos)
        best = int(np.argmax(f1s))
        best_f1, best_thr = float(f1s[best]), float(thr[best])
    else:
        auprc = best_f1 = best_thr = np.nan
    pred = s >= threshold
    tp = float(np.sum(pred & y))
    denom = 2 * tp + np.sum(pred & ~y) + np.sum(~pred & y)
    f1 = float(2 * tp / denom) if denom else 0.0
    return {"auroc": auroc, "auprc": auprc, "f1": f1, "best_f1": best_f1, "best_threshold": best_thr}


def per_feature_metrics(
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    min_positives: int = 10,
    threshold: float = 0.5,
) -> dict[str, np.ndarray]:
    """Metrics for every feature (column): dict of float arrays of length K.

    Keys: ``auroc, auprc, f1, best_f1, best_threshold`` (NaN when the feature has fewer than
    ``min_positives`` positives or no negatives), ``positives`` and ``prevalence``.
    """
    y_true, y_score = _as_2d(y_true), _as_2d(y_score)
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} differ in shape")
    return metrics_by_column(lambda j: (y_true[:, j], y_score[:, j]), y_true.shape[1],
                             min_positives=min_positives, threshold=threshold)


def metrics_by_column(
    column: Callable[[int], tuple[np.ndarray, np.ndarray]],
    k: int,
    *,
    min_positives: int = 10,
    threshold: float = 0.5,
) -> dict[str, np.ndarray]:
    """``per_feature_metrics`` with each feature's (labels, scores) fetched by ``column(j)``, one at
    a time (from disk, say: :class:`chromseq.evaluation.columns.ColumnStore`)."""
    out = {name: np.full(k, np.nan) for name in METRIC_NAMES}
    out["positives"] = np.zeros(k, np.int64)
    out["prevalence"] = np.full(k, np.nan)
    for j in range(k):
        y, s = column(j)
        n, positives = len(y), int(np.count_nonzero(y))
        out["positives"][j] = positives
        if n:
            out["prevalence"][j] = positives / n
        if positives < max(min_positives, 1) or positives == n:
            continue
        for name, value in binary_metrics(y, s, threshold).items():
            out[name][j] = value
    return out


def f1_at(y_true: np.ndarray, y_score: np.ndarray, threshold: float | np.ndarray = 0.5) -> np.ndarray:
    """Per-feature F1 with predictions ``score >= threshold`` (scalar or one per feature)."""
    y = _as_2d(y_true).astype(bool)
    pred = _as_2d(y_score) >= threshold
    tp = (pred & y).sum(0)
    denom = 2 * tp + (pred & ~y).sum(0) + (~pred & y).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def mean_f1(
    y_true: np.ndarray, y_score: np.ndarray, *, threshold: float = 0.5, min_prevalence: float = 0.01
) -> tuple[float, int]:
    """Mean per-feature F1 over features with at least ``min_prevalence`` positives, and their count.

    This is Zhang & Kamath's multitask F1: computed on the whole set, then averaged over tasks.
    """
    y = _as_2d(y_true)
    keep = y.mean(0) >= min_prevalence
    if not keep.any():
        return float("nan"), 0
    return float(f1_at(y[:, keep], _as_2d(y_score)[:, keep], threshold).mean()), int(keep.sum())


def perplexity(y_true: np.ndarray, y_score: np.ndarray, eps: float = 1e-7) -> float:
    """exp(mean binary cross-entropy) over all samples and features (Zhang & Kamath)."""
    y = _as_2d(y_true).astype(np.float64)
    p = np.clip(_as_2d(y_score).astype(np.float64), eps, 1 - eps)
    bce = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return float(np.exp(bce.mean()))


def summarize(metrics: dict[str, np.ndarray], groups: Sequence[str] | None = None) -> dict[str, dict]:
    """Median and mean AUROC/AUPRC/F1 per group (e.g. DNase / TF / histone) and over all features.

    NaN features are left out and counted in ``n_na``.
    """
    k = len(metrics["auroc"])
    groups = list(groups) if groups is not None else ["all"] * k
    result: dict[str, dict] = {}
    for label in ["all", *dict.fromkeys(g for g in groups if g != "all")]:
        mask = np.ones(k, bool) if label == "all" else np.array([g == label for g in groups])
        entry: dict[str, float | int] = {"n_features": int(mask.sum())}
        for name in ("auroc", "auprc", "f1", "best_f1"):
            values = metrics[name][mask]
            values = values[~np.isnan(values)]
            entry[f"median_{name}"] = float(np.median(values)) if len(values) else float("nan")
            entry[f"mean_{name}"] = float(np.mean(values)) if len(values) else float("nan")
        entry["n_na"] = int(np.isnan(metrics["auroc"][mask]).sum())
        result[label] = entry
    return result
