from fractions import Fraction

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from chromseq.evaluation.metrics import (
    binary_metrics,
    f1_at,
    mean_f1,
    per_feature_metrics,
    perplexity,
    summarize,
)


def test_per_feature_metrics_match_scikit_learn_including_ties_and_na():
    rng = np.random.default_rng(0)
    n, k = 400, 6
    y = (rng.random((n, k)) < np.array([0.3, 0.05, 0.5, 0.01, 0.0, 1.0])).astype(np.uint8)
    s = rng.random((n, k))
    s[:, 2] = np.round(s[:, 2], 1)  # many ties
    s[:, 0] = 0.6 * y[:, 0] + 0.4 * s[:, 0]
    m = per_feature_metrics(y, s, min_positives=10)
    for j in range(k):
        pos = y[:, j].sum()
        if pos < 10 or pos == n:
            assert np.isnan([m["auroc"][j], m["auprc"][j], m["best_f1"][j]]).all()
            continue
        assert m["auroc"][j] == pytest.approx(roc_auc_score(y[:, j], s[:, j]), abs=1e-6)
        assert m["auprc"][j] == pytest.approx(average_precision_score(y[:, j], s[:, j]), abs=1e-6)
        assert m["f1"][j] == pytest.approx(f1_score(y[:, j], s[:, j] >= 0.5), abs=1e-6)
        p, r, _ = precision_recall_curve(y[:, j], s[:, j])
        with np.errstate(invalid="ignore"):
            best = np.nanmax(2 * p * r / (p + r))
        assert m["best_f1"][j] == pytest.approx(best, abs=1e-6)
        assert f1_score(y[:, j], s[:, j] >= m["best_threshold"][j]) == pytest.approx(best, abs=1e-6)
    assert list(m["positives"]) == list(y.sum(0))
    np.testing.assert_allclose(f1_at(y, s)[:4], [f1_score(y[:, j], s[:, j] >= 0.5) for j in range(4)])


def test_mean_f1_perplexity_and_summary():
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 1]])
    s = np.array([[0.9, 0.1], [0.2, 0.3], [0.4, 0.2], [0.1, 0.8]])
    f1, n = mean_f1(y, s)
    assert n == 2 and f1 == pytest.approx((2 / 3 + 1.0) / 2)
    expected = np.exp(-np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)))
    assert perplexity(y, s) == pytest.approx(expected)
    m = per_feature_metrics(y, s, min_positives=1)
    summary = summarize(m, ["DNase", "TF"])
    assert summary["all"]["n_features"] == 2 and summary["TF"]["median_auroc"] == pytest.approx(1.0)


def test_metrics_by_hand_with_ties():
    # positives 0.9, 0.8, 0.6, 0.3; negatives 0.8, 0.5, 0.3, 0.1 (one tie at 0.8 and one at 0.3)
    y = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.8, 0.6, 0.5, 0.3, 0.3, 0.1])
    m = binary_metrics(y, s)
    # AUROC: pairs won (ties count 1/2) out of 16: 4 + 3.5 + 3 + 1.5
    assert m["auroc"] == pytest.approx(12 / 16, abs=1e-15)
    # average precision: recall steps of 1/4 at precisions 1, 2/3, 3/4, 4/7
    assert m["auprc"] == pytest.approx((1 + 2 / 3 + 3 / 4 + 4 / 7) / 4, abs=1e-15)
    assert m["f1"] == pytest.approx(2 / 3, abs=1e-15)  # s >= 0.5: tp 3, fp 2, fn 1
    assert m["best_f1"] == pytest.approx(3 / 4, abs=1e-15) and m["best_threshold"] == 0.6  # tp 3, fp 1, fn 1
    assert binary_metrics(y, s, threshold=0.3)["f1"] == pytest.approx(8 / 11, abs=1e-15)  # tp 4, fp 3


def _by_hand(y, s):
    """AUROC (Mann-Whitney, ties 1/2), average precision, best F1 over thresholds, as exact fractions."""
    pos, neg = s[y == 1], s[y == 0]
    auroc = Fraction(sum(2 * int(p > n) + int(p == n) for p in pos for n in neg), 2 * len(pos) * len(neg))
    ap, best, last_recall = Fraction(0), Fraction(0), Fraction(0)
    for t in sorted(set(s), reverse=True):
        tp, fp = int(((s >= t) & (y == 1)).sum()), int(((s >= t) & (y == 0)).sum())
        recall = Fraction(tp, len(pos))
        ap += (recall - last_recall) * Fraction(tp, tp + fp)
        best = max(best, Fraction(2 * tp, tp + fp + len(pos)))
        last_recall = recall
    return float(auroc), float(ap), float(best)


def test_metrics_equal_exact_fractions_on_tied_scores():
    rng = np.random.default_rng(1)
    y = (rng.random((300, 3)) < [0.1, 0.4, 0.7]).astype(np.uint8)
    s = rng.integers(0, 11, (300, 3)) / 10 + 0.3 * y  # scores on a grid: many ties, both classes
    m = per_feature_metrics(y, s, min_positives=1)
    for j in range(3):
        auroc, ap, best = _by_hand(y[:, j], s[:, j])
        assert m["auroc"][j] == pytest.approx(auroc, rel=1e-12)
        assert m["auprc"][j] == pytest.approx(ap, rel=1e-12)
        assert m["best_f1"][j] == pytest.approx(best, rel=1e-12)


def test_na_rules_clipping_and_summary_by_hand():
    y = np.array([[1, 0, 1, 1], [0, 0, 1, 1], [1, 0, 1, 0], [0, 0, 1, 0]])
    s = np.array([[0.9, 0.2, 0.5, 0.7], [0.1, 0.3, 0.5, 0.6], [0.8, 0.1, 0.5, 0.6], [0.4, 0.4, 0.5, 0.1]])
    m = per_feature_metrics(y, s, min_positives=2)
    assert list(m["positives"]) == [2, 0, 4, 2] and list(m["prevalence"]) == [0.5, 0.0, 1.0, 0.5]
    assert np.isnan(m["auroc"][[1, 2]]).all() and np.isnan(m["best_f1"][[1, 2]]).all()  # no positive / no negative
    assert m["auroc"][0] == 1.0 and m["auroc"][3] == pytest.approx(3.5 / 4, abs=1e-15)  # 0.6 vs 0.6: a tie
    summary = summarize(m, ["DNase", "TF", "TF", "DNase"])
    assert summary["TF"]["n_features"] == summary["TF"]["n_na"] == 2 and np.isnan(summary["TF"]["median_auroc"])
    assert summary["DNase"]["median_auroc"] == pytest.approx((1 + 3.5 / 4) / 2, abs=1e-15)
    assert summary["all"]["n_features"] == 4 and summary["all"]["n_na"] == 2
    # perplexity: scores of exactly 0 and 1 are clipped to 1e-7 and 1 - 1e-7
    y = np.array([[1, 0], [0, 1]])
    s = np.array([[0.5, 0.0], [0.25, 1.0]])
    bce = [-np.log(0.5), -np.log1p(-1e-7), -np.log(0.75), -np.log(1 - 1e-7)]
    assert perplexity(y, s) == pytest.approx(np.exp(np.mean(bce)), rel=1e-12)
    assert perplexity([[1]], [[0.0]]) == pytest.approx(1e7, rel=1e-6)
    f1, n = mean_f1(np.array([[1, 0, 0], [0, 0, 1]] * 50 + [[0, 1, 0]]), np.full((101, 3), 0.6), min_prevalence=0.05)
    assert n == 2 and f1 == pytest.approx(2 * 50 / (2 * 50 + 51), abs=1e-15)  # all predicted positive
