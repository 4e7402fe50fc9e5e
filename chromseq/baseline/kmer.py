"""k-mer bag of words: overlapping k-mer counts for k = 1..5 (4 + 16 + 64 + 256 + 1024 = 1,364).

Counted with base-4 codes over whole arrays (no Python loop over bases); k-mers that contain N
are skipped. Column order: all 1-mers, then 2-mers, ..., each in lexicographic ACGT order.
"""

from __future__ import annotations

import itertools

import numpy as np

ACGT = "ACGT"


def kmer_names(kmax: int = 5) -> list[str]:
    return ["".join(p) for k in range(1, kmax + 1) for p in itertools.product(ACGT, repeat=k)]


def kmer_counts_from_indices(idx: np.ndarray, kmax: int = 5, chunk: int = 8192) -> np.ndarray:
    """Counts (N, 1364 for kmax=5) from base indices (N, L) in ACGT order with 4 for N."""
    idx = np.asarray(idx)
    n, length = idx.shape
    widths = [4**k for k in range(1, kmax + 1)]
    out = np.zeros((n, sum(widths)), np.float32)
    offset = 0
    for k, width in zip(range(1, kmax + 1), widths):
        if length < k:
            offset += width
            continue
        for lo in range(0, n, chunk):
            block = idx[lo : lo + chunk].astype(np.int64)
            m = len(block)
            windows = length - k + 1
            code = np.zeros((m, windows), np.int64)
            bad = np.zeros((m, windows), bool)
            for j in range(k):  # k <= 5 vectorized passes over the whole block
                part = block[:, j : j + windows]
                code = code * 4 + np.minimum(part, 3)
                bad |= part > 3
            flat = (np.arange(m)[:, None] * width + code)[~bad]
            out[lo : lo + m, offset : offset + width] = np.bincount(flat, minlength=m * width).reshape(m, width)
        offset += width
    return out


def kmer_counts(seqs: list[str] | np.ndarray, kmax: int = 5, alphabet: str = ACGT) -> np.ndarray:
    """Counts for strings, or for one-hot (N, L, 4) arrays in ``alphabet`` order."""
    if isinstance(seqs, np.ndarray) and seqs.ndim == 3:
        order = [alphabet.index(b) for b in ACGT]
        x = seqs[..., order]
        idx = np.where(x.max(-1) > 0, x.argmax(-1), 4)
        return kmer_counts_from_indices(idx, kmax)
    from chromseq.data.encoding import encode_indices

    lengths = {len(s) for s in seqs}
    if len(lengths) == 1:
        return kmer_counts_from_indices(np.stack([encode_indices(s, ACGT) for s in seqs]), kmax)
    return np.concatenate([kmer_counts_from_indices(encode_indices(s, ACGT)[None], kmax) for s in seqs])
