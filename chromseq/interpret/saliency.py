"""Saliency maps: |dS_c/dX| x X, the gradient magnitude on the observed bases."""

from __future__ import annotations

import numpy as np

from chromseq.interpret.attributions import input_gradients


def saliency_map(model, x: np.ndarray, feature: int, batch_size: int = 256, *, logits: bool = True) -> np.ndarray:
    """Saliency (N, L, 4) of feature ``feature`` for one-hot ``x`` (N, L, 4), batched.

    S_c is the logit (``logits=True``, as Simonyan et al. and DeMo) or the probability.
    Only the observed base of each position is non-zero (|gradient| x input; the signed
    version is ``chromseq.interpret.gradient_x_input``).
    """
    return np.abs(input_gradients(model, x, feature, batch_size, logits=logits)) * np.asarray(x, np.float32)
