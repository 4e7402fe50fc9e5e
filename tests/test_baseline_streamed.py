"""The streamed k-mer baseline: one linear layer fitted by L-BFGS over blocks equals K
scikit-learn logistic regressions, and the block computation equals the in-memory one."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from chromseq.baseline.count_cache import cache_counts, cached_blocks
from chromseq.baseline.kmer import kmer_counts
from chromseq.baseline.kmer_stats import KmerStatsAccumulator
from chromseq.baseline.logistic import (
    KmerBaseline,
    array_blocks,
    fit_kmer_baseline,
    fit_streamed,
    stats_of,
)
from chromseq.errors import ChromseqError


def _planted(n, length=60, kmax=3, seed=0):
    """k-mer counts (n, 84 for kmax 3) and 5 labels: 3 driven by planted words, 1 by GC, 1 noise."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 4, (n, length))
    y = np.zeros((n, 5), np.uint8)
    for f, word in enumerate(([2, 2, 2, 2], [0, 3, 0, 3], [1, 2, 1, 2])):
        hit = rng.random(n) < 0.15 + 0.1 * f
        at = rng.integers(0, length - 4, n)
        for j, base in enumerate(word):
            idx[hit, at[hit] + j] = base
        y[:, f] = hit & (rng.random(n) < 0.8) | (rng.random(n) < 0.03)
    gc = np.isin(idx, (1, 2)).mean(1)
    y[:, 3] = gc + rng.normal(0, 0.05, n) > 0.55
    y[:, 4] = rng.random(n) < 0.2
    from chromseq.baseline.kmer import kmer_counts_from_indices

    return kmer_counts_from_indices(idx, kmax), y


def _sklearn(counts, y, **kwargs):
    scaler = StandardScaler().fit(np.log1p(counts))
    z = scaler.transform(np.log1p(counts))
    models = [LogisticRegression(C=1.0, max_iter=20000, tol=1e-10, **kwargs).fit(z, y[:, j]) for j in range(y.shape[1])]
    return scaler, models


def test_streamed_stats_equal_the_in_memory_ones():
    counts, y = _planted(1000)
    acc = KmerStatsAccumulator()
    for lo in range(0, 1000, 97):  # uneven blocks
        acc.add(counts[lo : lo + 97], y[lo : lo + 97])
    stats = acc.finish()
    x = np.log1p(counts.astype(np.float64))
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    np.testing.assert_allclose(stats.mean, scaler.mean_, rtol=1e-6)
    np.testing.assert_allclose(stats.scale, scaler.scale_, rtol=1e-5)
    np.testing.assert_allclose(stats.correlation, z.T @ z / len(z), atol=1e-5)
    np.testing.assert_allclose(stats.zty, z.T @ y / len(z), atol=1e-5)
    assert stats.n == 1000 and stats.positives.tolist() == y.sum(0).tolist()


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_one_linear_layer_equals_k_sklearn_regressions(class_weight):
    counts, y = _planted(2000)
    model = fit_kmer_baseline(counts, y, class_weight=class_weight, block_size=512, ftol=0, verbose=False)
    assert model.info["converged"], model.info
    scaler, ref = _sklearn(counts, y, class_weight=class_weight)
    coef, intercept = np.stack([m.coef_[0] for m in ref], 1), np.array([m.intercept_[0] for m in ref])
    # correlated k-mer counts leave directions where the objective is flat to 1e-7: coefficients
    # agree to 1 %, the objective to 1e-6
    np.testing.assert_allclose(model.coef, coef, atol=1e-2 * np.abs(coef).max())
    np.testing.assert_allclose(model.intercept, intercept, atol=1e-2)
    z = scaler.transform(np.log1p(counts))
    weight = np.ones_like(y, float) if class_weight is None else np.where(y, len(y) / (2 * y.sum(0)),
                                                                        len(y) / (2 * (len(y) - y.sum(0))))

    def objective(w, b):
        logits = z @ w + b
        return (weight * (np.logaddexp(0, logits) - y * logits)).mean(0) + (w * w).sum(0) / (2 * len(z))

    np.testing.assert_allclose(objective(model.coef.astype(float), model.intercept), objective(coef, intercept),
                               atol=1e-6)
    test, yt = _planted(1000, seed=1)
    p = model.predict(test)
    pr = np.stack([m.predict_proba(scaler.transform(np.log1p(test)))[:, 1] for m in ref], 1)
    np.testing.assert_allclose(p, pr, atol=2e-3)
    for j in range(5):
        assert abs(roc_auc_score(yt[:, j], p[:, j]) - roc_auc_score(yt[:, j], pr[:, j])) < 1e-3
    assert roc_auc_score(yt[:, 0], p[:, 0]) > 0.8 and roc_auc_score(yt[:, 4], p[:, 4]) < 0.6


def test_blocks_equal_one_block_and_the_disk_cache(tmp_path):
    counts, y = _planted(700)
    one = fit_kmer_baseline(counts, y, block_size=10**6, ftol=0, verbose=False)
    many = fit_kmer_baseline(counts, y, block_size=64, ftol=0, verbose=False)
    # float32 sums in another order: the same optimum to 0.1 %, the same probabilities to 1e-4
    np.testing.assert_allclose(many.coef, one.coef, atol=1e-3 * np.abs(one.coef).max())
    # the L-BFGS stops within 2e-5 of the objective, so block order (float32 sums) moves the
    # stopping point slightly: 1.2e-4 measured under ONEDNN_MAX_CPU_ISA=AVX2
    np.testing.assert_allclose(many.predict(counts), one.predict(counts), atol=1e-3)

    class Toy:  # the part of SeqDataset cache_counts reads
        n_samples, n_features, seq_len, alphabet = 700, 5, 60, "ACGT"

        def iter_blocks(self, block_size):
            for lo in range(0, 700, block_size):
                yield lo, self.x[lo : lo + block_size], y[lo : lo + block_size]

    rng = np.random.default_rng(0)
    toy = Toy()
    toy.x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (700, 60))]
    stats = cache_counts(toy, tmp_path / "c.h5", block_size=128, kmax=5, verbose=False)
    back = list(cached_blocks(tmp_path / "c.h5", 300)())
    assert [len(c) for c, _ in back] == [300, 300, 100]
    np.testing.assert_array_equal(np.concatenate([c for c, _ in back]), kmer_counts(toy.x, alphabet="ACGT"))
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in back]), y)
    full = stats_of(array_blocks(kmer_counts(toy.x, alphabet="ACGT"), y))
    np.testing.assert_allclose(stats.correlation, full.correlation, atol=2e-5)  # float32 products


def test_single_class_feature_predicts_its_prevalence_and_model_round_trips(tmp_path):
    counts, y = _planted(400)
    y[:, 4] = 0
    model = fit_kmer_baseline(counts, y, verbose=False)
    assert model.fitted.tolist() == [True] * 4 + [False]
    p = model.predict(counts[:10])
    assert (p[:, 4] == 0).all() and ((p[:, :4] > 0) & (p[:, :4] < 1)).all()
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(KmerBaseline.load(tmp_path / "m.npz").predict(counts[:10]), p)
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(ChromseqError, match="not a k-mer baseline model"):
        KmerBaseline.load(tmp_path / "bad.npz")


def test_bad_options_are_refused():
    counts, y = _planted(100)
    blocks = array_blocks(counts, y)
    with pytest.raises(ChromseqError, match="C = 0"):
        fit_streamed(blocks, stats_of(blocks), c=0, verbose=False)
    with pytest.raises(ChromseqError, match="class_weight"):
        fit_streamed(blocks, stats_of(blocks), class_weight="auto", verbose=False)
    with pytest.raises(ChromseqError, match="label rows"):
        fit_kmer_baseline(counts, y[:50], verbose=False)
