"""``chromseq data inspect``: what a data file holds, computed by streaming blocks."""

from __future__ import annotations

import os

import numpy as np

from chromseq.data.mat import open_dataset


def inspect_file(path: str | os.PathLike, *, block_size: int = 8192, max_samples: int | None = None) -> dict:
    """Container, keys, shapes, orientation, alphabet, counts and label summary of a data file."""
    ds = open_dataset(path, max_samples=max_samples)
    info = {
        "file": str(path),
        "container": ds.container,
        "x_key": ds.x_key,
        "y_key": ds.y_key,
        "x_layout": {"LCN": "(L, 4, N): sample axis last (DeepSEA train.mat)",
                     "NCL": "(N, 4, L) (DeepSEA valid/test.mat)", "NLC": "(N, L, 4)",
                     "BITS": "(N, 4L/8) bit-packed, sample-major (chromseq data convert)"}[ds.x_layout],
        "alphabet": ds.alphabet,
        "samples": ds.n_samples,
        "seq_len": ds.seq_len,
        "features": ds.n_features,
    }
    positives = np.zeros(ds.n_features, np.int64)
    n_bases = np.zeros(4, np.int64)
    n_missing = 0
    for _, x, y in ds.iter_blocks(block_size):
        n_bases += x.sum(axis=(0, 1), dtype=np.int64)
        n_missing += int((x.sum(-1) == 0).sum())
        if y is not None:
            positives += y.sum(0, dtype=np.int64)
    total = max(1, int(n_bases.sum()) + n_missing)
    info["base_fractions"] = {b: round(float(c) / total, 4) for b, c in zip(ds.alphabet, n_bases)}
    info["n_fraction"] = round(n_missing / total, 4)
    if ds.has_labels and ds.n_samples:
        prevalence = positives / ds.n_samples
        info["positives"] = {
            "total": int(positives.sum()),
            "min_prevalence": float(prevalence.min()),
            "median_prevalence": float(np.median(prevalence)),
            "max_prevalence": float(prevalence.max()),
            "features_without_positives": int((positives == 0).sum()),
            "features_below_1pct": int((prevalence < 0.01).sum()),
        }
    if ds.feature_names:
        info["feature_table"] = f"{len(ds.feature_names)} names (features.tsv beside the file)"
    ds.close()
    return info
