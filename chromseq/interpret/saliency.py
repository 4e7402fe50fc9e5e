"""Saliency maps: |dS_c/dX| x X, the gradient magnitude on the observed bases."""

from __future__ import annotations

import numpy as np

from chromseq.interpret.common import score_model


def saliency_map(model, x: np.ndarray, feature: int, batch_size: int = 256, *, logits: bool = True) -> np.ndarray:
    """Saliency (N, L, 4) of feature ``feature`` for one-hot ``x`` (N, L, 4), batched.

    S_c is the logit (``logits=True``, as Simonyan et al. and DeMo) or the probability.
    Only the observed base of each position is non-zero (gradient x input).
    """
    import tensorflow as tf

    scorer = score_model(model, logits)

    @tf.function(reduce_retracing=True)
    def grad(batch):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            score = scorer(batch, training=False)[:, feature]
        return tape.gradient(score, batch)

    x = np.asarray(x, np.float32)
    out = [np.abs(grad(tf.constant(x[i : i + batch_size])).numpy()) * x[i : i + batch_size]
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros_like(x)
