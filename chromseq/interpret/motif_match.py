"""Compare motifs with a database: a Tomtom-like column-correlation score.

For a query Q and a database motif D, every offset of D against Q with at least ``min_overlap``
overlapping columns, on both strands of D, is scored by the Pearson correlations of the
overlapping columns summed and divided by the shorter motif's width (so a perfect match of the
shorter motif inside the longer one scores 1). The best offset and strand are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chromseq.data.motifs import Motif


@dataclass
class Match:
    query: str
    target_id: str
    target_name: str
    score: float
    offset: int
    strand: str
    overlap: int


def _normalize_columns(pwm: np.ndarray) -> np.ndarray:
    centered = pwm - pwm.mean(-1, keepdims=True)
    norm = np.linalg.norm(centered, axis=-1, keepdims=True)
    return np.where(norm > 1e-9, centered / np.where(norm > 1e-9, norm, 1), 0.0)


def compare_motifs(queries: list[Motif], database: list[Motif], *, top: int = 3,
                   min_overlap: int = 6) -> list[list[Match]]:
    """The ``top`` best database matches of each query (both strands, all offsets).

    Queries narrower than ``min_overlap`` (e.g. filters that learned nothing) get no match.
    """
    if not database:
        return [[] for _ in queries]
    widths = np.array([m.width for m in database])
    wmax = int(widths.max())
    strands = {"+": [m.pwm for m in database], "-": [m.pwm[::-1, ::-1] for m in database]}
    padded = {}
    for strand, pwms in strands.items():
        arr = np.zeros((len(database), wmax, 4))
        for i, p in enumerate(pwms):
            arr[i, : len(p)] = _normalize_columns(p)
        padded[strand] = arr
    results = []
    for q in queries:
        if q.width < min_overlap:
            results.append([])
            continue
        qn = _normalize_columns(q.pwm)
        wq = q.width
        best = np.full(len(database), -np.inf)
        best_meta = [(0, "+", 0)] * len(database)
        for strand, arr in padded.items():
            corr = np.einsum("qc,dwc->dqw", qn, arr)  # (D, Wq, Wmax)
            for offset in range(-(wmax - 1), wq):
                # database column j aligns with query column j + offset
                qi = np.arange(max(0, offset), min(wq, wmax + offset))
                if len(qi) == 0:
                    continue
                dj = qi - offset
                overlap = np.minimum(widths, dj[-1] + 1) - dj[0]  # columns inside each database motif
                overlap = np.clip(np.minimum(overlap, len(qi)), 0, None)
                summed = corr[:, qi, dj].sum(1)  # padded columns contribute 0
                shorter = np.minimum(widths, wq)
                ok = overlap >= np.maximum(np.minimum(min_overlap, shorter), 0.75 * shorter)
                score = np.where(ok, summed / shorter, -np.inf)
                better = score > best
                for d in np.flatnonzero(better):
                    best_meta[d] = (offset, strand, int(overlap[d]))
                best = np.where(better, score, best)
        order = np.argsort(-best)[:top]
        results.append([Match(q.id, database[d].id, database[d].name, float(best[d]), *best_meta[d]) for d in order])
    return results
