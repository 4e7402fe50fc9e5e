"""Streamed statistics of log k-mer counts: what one pass over the training blocks must collect.

The baseline's features are ``z = (log1p(counts) - mean) / scale`` (scikit-learn's StandardScaler:
population variance, a zero variance scaled by 1). One pass accumulates, block by block, the sums
that give the mean, the scale, the correlation matrix ``Z^T Z / n`` (the fit's preconditioner) and
``Z^T y`` (its first Newton step), so the counts of the whole file are never in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chromseq.errors import ChromseqError


@dataclass
class KmerStats:
    """Summary of n training samples: z-scaling of the d log-counts, their correlation (d, d),
    ``Z^T y / n`` (d, K) and the positives per label (K,)."""

    n: int
    mean: np.ndarray
    scale: np.ndarray
    correlation: np.ndarray
    zty: np.ndarray
    positives: np.ndarray


class KmerStatsAccumulator:
    """Add blocks of counts (m, d) and 0/1 labels (m, K); ``finish()`` gives ``KmerStats``.

    Sums are taken about the first block's mean so that the variance does not lose
    its digits to the square of a mean of ~5 (log1p of a 1-mer count in 1000 bp).
    """

    def __init__(self) -> None:
        self.n = 0
        self._shift = self._s1 = self._s2 = self._sxy = self._sy = None

    def add(self, counts: np.ndarray, y: np.ndarray) -> None:
        x = np.log1p(np.asarray(counts, np.float32))
        y = np.asarray(y, np.float32).reshape(len(x), -1)
        if self._shift is None:
            self._shift = x.mean(0, dtype=np.float64).astype(np.float32)
            d, k = x.shape[1], y.shape[1]
            self._s1, self._s2 = np.zeros(d), np.zeros((d, d))
            self._sxy, self._sy = np.zeros((d, k)), np.zeros(k)
        x -= self._shift  # float32 products of shifted values; the sums over blocks in float64
        self.n += len(x)
        self._s1 += x.sum(0, dtype=np.float64)
        self._s2 += x.T @ x
        self._sxy += x.T @ y
        self._sy += y.sum(0, dtype=np.float64)

    def finish(self) -> KmerStats:
        if not self.n:
            raise ChromseqError("no training samples to fit the k-mer baseline on")
        n, m1 = self.n, self._s1 / self.n
        cov = self._s2 / n - np.outer(m1, m1)
        var = np.clip(np.diag(cov), 0, None)
        # StandardScaler's rule: a (numerically) constant column keeps scale 1
        scale = np.where(var > 1e-12 * np.maximum(1.0, np.abs(self._shift + m1)) ** 2, np.sqrt(var), 1.0)
        corr = cov / np.outer(scale, scale)
        zty = (self._sxy / n - np.outer(m1, self._sy / n)) / scale[:, None]
        return KmerStats(n, self._shift + m1, scale, corr, zty, self._sy.astype(np.int64))
