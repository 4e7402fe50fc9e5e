"""Motifs from attributions: TF-MoDISco (modisco-lite) on one output's attributions.

TF-MoDISco cuts high-attribution windows (seqlets) out of many sequences, clusters them and
aggregates each cluster into a pattern: a position probability matrix (PPM, the bases of its
seqlets) and a contribution weight matrix (CWM, their mean contributions). It wants one-hot
sequences and hypothetical contributions as (N, L, 4) arrays in A, C, G, T order; chromseq's
arrays are in the model's alphabet (A, G, C, T for DeepSEA layout), so both are reordered here,
and the patterns come back in ACGT like every ``chromseq.data.motifs.Motif``.

How many sequences: modisco-lite only clusters a sign's seqlets when there are more than
``min_metacluster_size`` (100) of them, and a pattern needs ``final_min_cluster_size`` (20)
seqlets, so a few hundred sequences with a motif each is the floor; 1,000-2,000 positives of a
feature recover its motif reliably.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq.data.encoding import convert_alphabet
from chromseq.data.motifs import Motif
from chromseq.errors import ChromseqError

TABLE_COLUMNS = ("pattern", "sign", "n_seqlets", "consensus", "rank", "target_id", "target_name",
                 "p_value", "e_value", "q_value", "offset", "orientation", "overlap")


@dataclass
class Pattern:
    """One TF-MoDISco pattern; matrices (W, 4) in A, C, G, T order.

    ``name``: ``pos_patterns.pattern_<k>`` / ``neg_patterns.pattern_<k>`` as in modisco's HDF5;
    ``sign``: '+' for seqlets that raise the score, '-' for those that lower it; ``ppm``: base
    frequencies of the seqlets; ``cwm``: their mean contributions; ``hcwm``: mean hypothetical
    contributions; ``seqlets``: (example index, start, end, is_revcomp) of each seqlet.
    """

    name: str
    sign: str
    n_seqlets: int
    ppm: np.ndarray
    cwm: np.ndarray
    hcwm: np.ndarray
    seqlets: list[tuple[int, int, int, bool]] = field(default_factory=list)

    def trimmed(self, threshold: float = 0.3) -> slice:
        """The columns from the first to the last whose total |CWM| reaches ``threshold`` x the
        maximum (modisco-lite's report trims the same way before Tomtom)."""
        score = np.abs(self.cwm).sum(1)
        keep = np.flatnonzero(score >= threshold * score.max()) if score.max() > 0 else np.arange(len(score))
        return slice(int(keep[0]), int(keep[-1]) + 1)

    def motif(self, threshold: float = 0.3) -> Motif:
        """The trimmed PPM as a ``Motif`` (what is matched against a database)."""
        ppm = self.ppm[self.trimmed(threshold)]
        ppm = ppm / np.where(ppm.sum(1, keepdims=True) > 0, ppm.sum(1, keepdims=True), 1)
        return Motif(self.name, self.name, ppm)

    @property
    def consensus(self) -> str:
        """Most frequent base of each trimmed column."""
        return self.motif().consensus()


@dataclass
class ModiscoResult:
    """Patterns found (positive first) and what modisco-lite returned, for ``write_h5``."""

    patterns: list[Pattern]
    n_sequences: int
    window: int
    raw: tuple = (None, None)


def find_motifs(x: np.ndarray, hypothetical: np.ndarray, alphabet: str, *, window: int = 21, flank: int = 10,
                max_seqlets: int = 20000, min_metacluster_size: int = 100, n_leiden_runs: int = 50,
                verbose: bool = False, **options) -> ModiscoResult:
    """Run TF-MoDISco on one-hot ``x`` (N, L, 4) and hypothetical contributions (N, L, 4), both in
    ``alphabet`` order (the model's), e.g. ``deep_lift_shap(...).hypothetical``.

    ``window``: the sliding window that scores seqlets; ``flank``: bases added on each side;
    ``max_seqlets``: per sign; ``min_metacluster_size``: the fewest seqlets of a sign worth
    clustering; ``options`` go to ``modiscolite.tfmodisco.TFMoDISco``.
    """
    x = np.asarray(x)
    hyp = np.asarray(hypothetical, np.float32)
    if x.ndim != 3 or x.shape[-1] != 4 or hyp.shape != x.shape:
        raise ChromseqError(f"modisco needs one-hot sequences and hypothetical contributions of the same "
                            f"shape (N, L, 4); got {x.shape} and {hyp.shape}")
    if x.shape[1] < window + 2 * flank:
        raise ChromseqError(f"modisco: sequences of {x.shape[1]} bp are shorter than its window "
                            f"({window} bp + 2 x {flank} bp flanks)")
    from modiscolite.tfmodisco import TFMoDISco

    one_hot = convert_alphabet(x, alphabet, "ACGT").astype(np.float32)
    hyp = np.ascontiguousarray(convert_alphabet(hyp, alphabet, "ACGT"))
    try:
        pos, neg = TFMoDISco(one_hot=one_hot, hypothetical_contribs=hyp, sliding_window_size=window,
                             flank_size=flank, max_seqlets_per_metacluster=max_seqlets,
                             min_metacluster_size=min_metacluster_size, n_leiden_runs=n_leiden_runs,
                             verbose=verbose, **options)
    except ValueError as exc:  # e.g. sklearn's isotonic fit of the seqlet null on too few windows
        raise ChromseqError(f"modisco: no usable seqlets in {len(x)} sequences ({exc}); give more sequences "
                            "(hundreds of positives)") from exc
    patterns = []
    for sign, group, found in (("+", "pos_patterns", pos), ("-", "neg_patterns", neg)):
        for k, p in enumerate(found or []):
            seqlets = [(int(s.example_idx), int(s.start), int(s.end), bool(s.is_revcomp)) for s in p.seqlets]
            patterns.append(Pattern(f"{group}.pattern_{k}", sign, len(p.seqlets), np.array(p.sequence),
                                    np.array(p.contrib_scores), np.array(p.hypothetical_contribs), seqlets))
    return ModiscoResult(patterns, len(x), window, (pos, neg))


def write_h5(path: str | os.PathLike, result: ModiscoResult) -> None:
    """modisco-lite's HDF5 results (``modisco motifs``' format, readable by ``modisco report``),
    written atomically."""
    from modiscolite.io import save_hdf5

    from chromseq.outputs import atomic_output

    with atomic_output(path) as tmp:
        save_hdf5(str(tmp), result.raw[0], result.raw[1], result.window)


def match_patterns(patterns: list[Pattern], database: list[Motif], *, top: int = 3,
                   threshold: float = 0.3) -> list[list]:
    """The ``top`` Tomtom matches in ``database`` of each pattern's trimmed PPM
    (``chromseq.interpret.motif_match.compare_motifs``)."""
    from chromseq.interpret.motif_match import compare_motifs

    return compare_motifs([p.motif(threshold) for p in patterns], database, top=top)


def _fmt(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def motif_table(patterns: list[Pattern], matches: list[list] | None = None) -> list[dict[str, str]]:
    """One row per pattern and match (``TABLE_COLUMNS``); a pattern without matches gets one row
    with the match columns empty."""
    rows = []
    for i, p in enumerate(patterns):
        base = {"pattern": p.name, "sign": p.sign, "n_seqlets": str(p.n_seqlets), "consensus": p.consensus}
        found = (matches[i] if matches else []) or [None]
        for r, m in enumerate(found, 1):
            row = dict.fromkeys(TABLE_COLUMNS, "") | base
            if m is not None:
                row |= {"rank": str(getattr(m, "rank", r)), "target_id": m.target_id, "target_name": m.target_name,
                        "p_value": _fmt(getattr(m, "p_value", None), ".3g"),
                        "e_value": _fmt(getattr(m, "e_value", None), ".3g"),
                        "q_value": _fmt(getattr(m, "q_value", None), ".3g"),
                        "offset": str(getattr(m, "offset", "")),
                        "orientation": str(getattr(m, "orientation", getattr(m, "strand", ""))),
                        "overlap": str(getattr(m, "overlap", ""))}
            rows.append(row)
    return rows


def write_motif_table(path: str | os.PathLike, patterns: list[Pattern], matches: list[list] | None = None) -> None:
    """``motif_table`` as a TSV file (written atomically)."""
    from chromseq.outputs import atomic_open

    with atomic_open(Path(path), "w") as fh:
        fh.write("\t".join(TABLE_COLUMNS) + "\n")
        for row in motif_table(patterns, matches):
            fh.write("\t".join(row[c] for c in TABLE_COLUMNS) + "\n")


def read_motif_table(path: str | os.PathLike) -> list[dict[str, str]]:
    """Rows of a ``motifs.tsv`` written by ``write_motif_table``."""
    lines = Path(path).read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]
