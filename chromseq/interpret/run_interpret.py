"""Run an interpretation method on a run directory: pick samples and feature, write arrays and figures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.errors import ChromseqError


def resolve_feature(run_dir: Path, feature: str | None, n_features: int) -> int:
    """A feature index from an index or a name pattern (the run's features.tsv)."""
    if feature is None:
        return 0
    if feature.strip().isdigit():
        idx = int(feature)
        if idx >= n_features:
            raise ChromseqError(f"feature {idx} does not exist: the model has features 0..{n_features - 1}")
        return idx
    from chromseq.data.annotations import FeatureTable

    path = run_dir / runs.FEATURES_FILE
    if not path.exists():
        raise ChromseqError(f"{run_dir}: no features.tsv to look up feature {feature!r}; give an index")
    return int(FeatureTable.read(path, n_features=n_features).select(feature)[0])


def load_samples(run_dir: Path, data: str | os.PathLike | None, feature: int, n: int,
                 max_read: int = 20000, positives_only: bool = True) -> tuple[np.ndarray, np.ndarray, str, np.ndarray]:
    """Up to ``n`` samples that are positive for ``feature`` (all samples when unlabelled).

    Returns x (n, L, 4), their indices in the file, the alphabet and y (or empty).
    """
    from chromseq.data.encoding import convert_alphabet
    from chromseq.evaluation.evaluate import open_for_run

    info = runs.read_run_info(run_dir)
    data = data or info.extra.get("valid")
    if not data:
        raise ChromseqError(f"{run_dir}: give --data (the run does not name a validation file)")
    ds = open_for_run(run_dir, data, info, max_samples=max_read)
    x, y = ds.load()
    if ds.alphabet != info.alphabet:
        x = convert_alphabet(x, ds.alphabet, info.alphabet)
    if positives_only and y is not None and y[:, feature].any():
        idx = np.flatnonzero(y[:, feature])[:n]
    else:
        idx = np.arange(min(n, len(x)))
    return x[idx], idx, info.alphabet, (y if y is not None else np.zeros((len(x), 0)))


def planted_spans(data: str | os.PathLike, indices: np.ndarray, crop_offset: int) -> list[list[tuple[int, int]]]:
    """Planted motif spans (crop-relative) for synthetic bundles that carry a planted_<split>.npz."""
    import json

    path = Path(data)
    planted = path.with_name(f"planted_{path.stem}.npz")
    truth = path.with_name("truth.json")
    if not planted.exists() or not truth.exists():
        return [[] for _ in indices]
    p = np.load(planted)
    widths = [len(m["pwm"]) for m in json.loads(truth.read_text())["motifs"]]
    out = []
    for i in indices:
        rows = np.flatnonzero((p["sample"] == i) & p["center"])
        out.append([(int(p["start"][r]) - crop_offset, int(p["start"][r]) - crop_offset + widths[p["motif"][r]])
                    for r in rows])
    return out
