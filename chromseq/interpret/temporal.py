"""Temporal output scores (DeMo): the score of every prefix X[1..i] and suffix X[i..L]."""

from __future__ import annotations

import numpy as np

from chromseq.errors import ChromseqError
from chromseq.inference import predict_batches
from chromseq.interpret.common import has_flatten, score_model


def temporal_scores(model, x: np.ndarray, feature: int, batch_size: int = 256, *, step: int = 1,
                    logits: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Forward (prefix) and backward (suffix) scores, each (N, L) (NaN between ``step`` points).

    Models that take any length (recurrent bodies) see the true prefixes and suffixes, one batch
    per length (prefixes shorter than the model's first convolution stay NaN); fixed-length models with a pooling head see the window with everything outside the
    prefix / suffix set to N (all-zero rows), all prefixes in one batched pass. Models with a
    Flatten head cannot score a shorter sequence: use saliency or ISM for them.
    """
    if has_flatten(model):
        raise ChromseqError("temporal scores need a model that can read shorter sequences (recurrent or "
                            "pooling head); this one flattens a fixed-length map: use `interpret saliency` "
                            "or `interpret ism` instead")
    scorer = score_model(model, logits)
    x = np.asarray(x, np.float32)
    n, length, _ = x.shape
    points = np.unique(np.r_[np.arange(step, length + 1, step), length])  # always the whole sequence
    fwd = np.full((n, length), np.nan, np.float32)
    bwd = np.full((n, length), np.nan, np.float32)
    if model.input_shape[1] is None:
        points = points[points >= _shortest_readable(scorer, points)]  # shorter ones stay NaN
        for i in points:
            fwd[:, i - 1] = predict_batches(scorer, x[:, :i], batch_size=batch_size)[:, feature]
            bwd[:, length - i] = predict_batches(scorer, x[:, length - i:], batch_size=batch_size)[:, feature]
        return fwd, bwd
    for s in range(n):
        keep = np.arange(length)[None, :] < points[:, None]  # (P, L): prefix masks
        prefixes = x[s][None] * keep[..., None]
        suffixes = x[s][None] * keep[:, ::-1][..., None]
        fwd[s, points - 1] = predict_batches(scorer, prefixes, batch_size=batch_size)[:, feature]
        bwd[s, length - points] = predict_batches(scorer, suffixes, batch_size=batch_size)[:, feature]
    return fwd, bwd


def _shortest_readable(scorer, points: np.ndarray) -> int:
    """The shortest of ``points`` that an any-length model can read (its convolutions need >= width)."""
    import tensorflow as tf

    for i in points:
        try:
            scorer(np.zeros((1, int(i), 4), np.float32), training=False)
            return int(i)
        except (ValueError, tf.errors.InvalidArgumentError):
            continue
    raise ChromseqError(f"the model cannot read any sequence of up to {int(points[-1])} bp")
