"""Order-k Markov models of DNA: the yardstick every genome language model is printed beside.

P(x_i | x_{i-k..i-1}) = (count(context, x_i) + alpha) / (count(context) + 4 alpha), counted on the
training region; perplexity = exp(mean negative log-likelihood in nats) on the held-out region,
over positions whose k preceding bases and own base are all A/C/G/T.
"""

from __future__ import annotations

import numpy as np


def _codes(parts: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(k+1)-mer codes (context * 4 + base) of every position with a clean k-base context."""
    codes, bases = [], []
    for part in parts:
        if len(part) <= k:
            continue
        m = len(part) - k
        code = np.zeros(m, np.int64)
        bad = np.zeros(m, bool)
        for j in range(k + 1):
            piece = part[j : j + m].astype(np.int64)
            code = code * 4 + np.minimum(piece, 3)
            bad |= piece > 3
        codes.append(code[~bad])
        bases.append(part[k:][~bad])
    if not codes:
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    return np.concatenate(codes), np.concatenate(bases)


def markov_perplexity(train: list[np.ndarray], test: list[np.ndarray], k: int, alpha: float = 0.5) -> float:
    """Held-out perplexity of an order-``k`` Markov chain with add-``alpha`` smoothing."""
    train_codes, _ = _codes(train, k)
    test_codes, _ = _codes(test, k)
    if not len(test_codes):
        return float("nan")
    uniq, counts = np.unique(train_codes, return_counts=True)  # sparse: fine for k = 12 (4^13 codes)
    pos = np.searchsorted(uniq, test_codes)
    pos = np.minimum(pos, len(uniq) - 1) if len(uniq) else pos
    joint = np.where((len(uniq) > 0) & (uniq[pos] == test_codes), counts[pos], 0) if len(uniq) else np.zeros(len(test_codes))
    ctx_train = train_codes // 4
    cu, cc = np.unique(ctx_train, return_counts=True)
    ctx_test = test_codes // 4
    cpos = np.minimum(np.searchsorted(cu, ctx_test), max(0, len(cu) - 1))
    context = np.where((len(cu) > 0) & (cu[cpos] == ctx_test), cc[cpos], 0) if len(cu) else np.zeros(len(test_codes))
    logp = np.log(joint + alpha) - np.log(context + 4 * alpha)
    return float(np.exp(-logp.mean()))


def markov_table(train: list[np.ndarray], test: list[np.ndarray], orders=range(13), alpha: float = 0.5) -> dict[int, float]:
    """Perplexity for every order in ``orders`` (0..12 by default)."""
    return {k: markov_perplexity(train, test, k, alpha) for k in orders}
