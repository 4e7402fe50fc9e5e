"""In-silico mutagenesis: the score change of every substitution at every position."""

from __future__ import annotations

import numpy as np

from chromseq.inference import predict_batches
from chromseq.interpret.common import score_model


def in_silico_mutagenesis(
    model,
    x: np.ndarray,
    feature: int | None = None,
    batch_size: int = 256,
    *,
    positions: np.ndarray | range | None = None,
    alphabet: str = "AGCT",
    logits: bool = False,
    progress: bool | None = None,
) -> np.ndarray:
    """Score changes for all substitutions of one-hot ``x`` (N, L, 4).

    Returns (N, P, 4) for one ``feature`` or (N, P, 4, K) for all, where P are the
    ``positions`` (default: all L); entry [n, p, b] is score(x with base b at p) - score(x),
    0 at the reference base. Scores are probabilities, or logits with ``logits=True``.
    All mutants go through the one batched prediction path. ``progress``: a bar on stderr over
    the sequences (None: only on a terminal).
    """
    from chromseq.progress import progress_bar

    x = np.asarray(x, dtype=np.float32)
    n, length, _ = x.shape
    pos = np.arange(length) if positions is None else np.asarray(list(positions))
    scorer = score_model(model, logits)
    ref = predict_batches(scorer, x, batch_size=batch_size, alphabet=alphabet)
    k = ref.shape[1]
    out = np.zeros((n, len(pos), 4, k), np.float32)
    eye = np.eye(4, dtype=np.float32)
    for i in progress_bar(range(n), desc="mutagenesis", unit="seq", show=progress):
        mutants = np.repeat(x[i][None], len(pos) * 4, axis=0)
        rows = np.arange(len(pos) * 4)
        mutants[rows, np.repeat(pos, 4)] = np.tile(eye, (len(pos), 1))
        pred = predict_batches(scorer, mutants, batch_size=batch_size, alphabet=alphabet)
        out[i] = (pred - ref[i]).reshape(len(pos), 4, k)
        is_ref = x[i, pos] > 0.5  # the reference base: change exactly 0
        out[i][is_ref] = 0.0
    return out[..., feature] if feature is not None else out

