import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from chromseq.evaluation.metrics import f1_at, mean_f1, per_feature_metrics, perplexity, summarize


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
