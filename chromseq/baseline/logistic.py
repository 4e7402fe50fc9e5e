"""The k-mer logistic-regression baseline: scaled k-mer counts, one L2 logistic regression per feature."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from chromseq.errors import ChromseqError


@dataclass
class KmerBaseline:
    """A fitted baseline: the scaler and one classifier per feature (None where a feature has one class)."""

    scaler: object
    models: list
    constant: np.ndarray  # the training prevalence, used where a feature has a single class
    kmax: int = 5

    def predict(self, counts: np.ndarray) -> np.ndarray:
        z = self.scaler.transform(np.log1p(counts))
        out = np.empty((len(counts), len(self.models)), np.float32)
        for j, model in enumerate(self.models):
            out[:, j] = model.predict_proba(z)[:, 1] if model is not None else self.constant[j]
        return out

    def save(self, path: str | os.PathLike) -> None:
        import joblib

        from chromseq.outputs import atomic_output

        with atomic_output(path) as tmp:
            joblib.dump(self, tmp)

    @staticmethod
    def load(path: str | os.PathLike) -> KmerBaseline:
        import joblib

        return joblib.load(path)


def _fit_one(z: np.ndarray, y: np.ndarray, c: float, class_weight: str | None, max_iter: int):
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return None
    return LogisticRegression(C=c, class_weight=class_weight, max_iter=max_iter).fit(z, y)


def fit_kmer_baseline(counts: np.ndarray, y: np.ndarray, *, c: float = 1.0, class_weight: str | None = None,
                      max_iter: int = 200, n_jobs: int = -1, verbose: bool = True) -> KmerBaseline:
    """Fit on k-mer counts (N, 1364) and labels (N, K): log1p, standard scaling, L2 logistic per feature."""
    from joblib import Parallel, delayed
    from sklearn.preprocessing import StandardScaler
    from tqdm.auto import tqdm

    if len(counts) != len(y):
        raise ChromseqError(f"{len(counts)} sequences but {len(y)} label rows")
    y = y.reshape(len(y), -1)
    scaler = StandardScaler().fit(np.log1p(counts))
    z = scaler.transform(np.log1p(counts)).astype(np.float32)
    jobs = (delayed(_fit_one)(z, y[:, j], c, class_weight, max_iter) for j in range(y.shape[1]))
    models = Parallel(n_jobs=n_jobs)(tqdm(jobs, total=y.shape[1], desc="logistic", disable=not verbose))
    return KmerBaseline(scaler, list(models), y.mean(0).astype(np.float32))
