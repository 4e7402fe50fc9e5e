"""Compare motifs with a database by Tomtom's statistics (memelite's ``tomtom``).

For every query and database motif, memelite's Tomtom finds the best alignment over all offsets and
both strands of the database motif and gives its p-value against a background built from the
database's own columns (memelite scores columns by Euclidean distance; MEME's Tomtom by default
uses Pearson correlation). As in Tomtom's table, the E-value is the p-value times the number of
database motifs and the q-value is the Benjamini-Hochberg value over that query's p-values
against the whole database.

memelite compiles its kernels with numba on first use (about a minute on 2 cores) and caches the
compiled code beside its package (or in numba's user cache when that is read-only), so later
processes start in about a second.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from chromseq.data.motifs import Motif

MATCH_COLUMNS = ("rank", "target_id", "target_name", "p_value", "e_value", "q_value", "offset",
                 "orientation", "overlap", "query_consensus", "target_consensus")


@dataclass(frozen=True)
class Match:
    """One row of a Tomtom table.

    ``offset``: query column i faces database column i + offset of the database motif on
    ``orientation`` ('+' as written, '-' its reverse complement); ``overlap``: aligned columns;
    ``rank``: 1 for the query's smallest p-value; ``target_consensus`` is read on ``orientation``.
    """

    query: str
    target_id: str
    target_name: str
    rank: int
    p_value: float
    e_value: float
    q_value: float
    offset: int
    orientation: str
    overlap: int
    query_consensus: str = ""
    target_consensus: str = ""

    def row(self) -> dict[str, str]:
        """The ``MATCH_COLUMNS`` of this match as text (p, E, q in 3 significant digits)."""
        return {"rank": str(self.rank), "target_id": self.target_id, "target_name": self.target_name,
                "p_value": f"{self.p_value:.3g}", "e_value": f"{self.e_value:.3g}",
                "q_value": f"{self.q_value:.3g}", "offset": str(self.offset),
                "orientation": self.orientation, "overlap": str(self.overlap),
                "query_consensus": self.query_consensus, "target_consensus": self.target_consensus}


def compare_motifs(queries: list[Motif], database: list[Motif], *, top: int = 3,
                   min_width: int = 4) -> list[list[Match]]:
    """The ``top`` best database matches of each query by Tomtom p-value (both strands, all offsets).

    ``queries`` and ``database``: motifs with (W, 4) ACGT probability PWMs. Queries narrower than
    ``min_width`` columns (e.g. trimmed filters that learned nothing) get no match. Returns one
    list per query, best first. p-values depend on the database (its columns are the background):
    with fewer than about 50 motifs they are rough.
    """
    if not database or not queries:
        return [[] for _ in queries]
    from memelite import tomtom
    from scipy.stats import false_discovery_control

    keep = [i for i, q in enumerate(queries) if q.width >= min_width]
    results: list[list[Match]] = [[] for _ in queries]
    if not keep:
        return results
    # memelite wants (4, W) in ACGT order: the PWMs' own columns, transposed
    qs = [np.asarray(queries[i].pwm, np.float64).T.copy() for i in keep]
    ts = [np.asarray(m.pwm, np.float64).T.copy() for m in database]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the small-database warning is in the docstring
        p, _, offsets, overlaps, strands = tomtom(qs, ts)
    n_db = len(database)
    for row, i in enumerate(keep):
        pv = np.clip(p[row], 0.0, 1.0)
        qv = false_discovery_control(pv, method="bh")
        order = np.argsort(pv, kind="stable")[:top]
        query = queries[i]
        results[i] = [Match(query.id, database[d].id, database[d].name, r, float(pv[d]),
                            float(pv[d] * n_db), float(qv[d]), int(offsets[row, d]),
                            "-" if strands[row, d] else "+", int(overlaps[row, d]), query.consensus(),
                            (database[d].reverse_complement() if strands[row, d] else database[d]).consensus())
                      for r, d in enumerate(order, 1)]
    return results


def write_matches(path: str | os.PathLike, matches: list[list[Match]],
                  extra: dict[str, list] | None = None) -> None:
    """Write a Tomtom-style TSV: ``query``, the ``extra`` columns (one value per query, e.g.
    sites), then ``MATCH_COLUMNS``; one line per match, queries without matches left out."""
    from chromseq.outputs import atomic_open

    extra = extra or {}
    with atomic_open(path, "w") as fh:
        fh.write("\t".join(["query", *extra, *MATCH_COLUMNS]) + "\n")
        for q, row in enumerate(matches):
            for m in row:
                fields = [m.query, *(str(values[q]) for values in extra.values()), *m.row().values()]
                fh.write("\t".join(fields) + "\n")
