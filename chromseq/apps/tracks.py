"""Genome-browser files from predictions over genome intervals: BED, bedGraph and bigWig.

* ``.bed``: one file, ``chrom start end name`` then one column per selected feature (a
  ``#chrom ...`` header line names them); intervals may overlap.
* ``.bedgraph`` and ``.bw`` / ``.bigwig``: one track per file, so one file per selected feature:
  with one feature ``--out`` itself, with several ``<stem>.<index>_<name><suffix>`` beside it
  (``name`` with characters other than letters, digits, ``.``, ``_`` and ``-`` turned into ``_``).
  Intervals must not overlap (browsers and pyBigWig require it); they are written sorted in the
  genome's contig order, and a bigWig's chromosome sizes come from the genome's index.

Every file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError
from chromseq.outputs import atomic_open, atomic_output

MAX_TRACK_FILES = 50  # a bigWig / bedGraph holds one feature: more files than this is a mistake
Span = tuple[str, int, int]  # contig (the genome's name), 0-based start, end


def track_paths(out: str | os.PathLike, features: Sequence[tuple[int, str]]) -> list[Path]:
    """The file for each ``(index, name)`` feature: ``out`` for one, ``<stem>.<index>_<name><suffix>`` else."""
    out = Path(out)
    if len(features) == 1:
        return [out]
    if len(features) > MAX_TRACK_FILES:
        raise ChromseqError(f"--out {out}: {out.suffix} holds one feature per file and {len(features)} features "
                            f"are selected; choose at most {MAX_TRACK_FILES} with --features (a name pattern or "
                            "indices 0,5,7), or write .bed / .tsv / .h5 for all of them")
    return [out.with_name(f"{out.stem}.{i}_{re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('_')}{out.suffix}")
            for i, name in features]


def _sorted_spans(spans: Sequence[Span], contig_order: Sequence[str], what: str) -> np.ndarray:
    """Row order by (contig in genome order, start); refuse overlapping intervals."""
    rank = {c: i for i, c in enumerate(contig_order)}
    order = sorted(range(len(spans)), key=lambda i: (rank[spans[i][0]], spans[i][1], spans[i][2]))
    for a, b in zip(order, order[1:]):
        if spans[a][0] == spans[b][0] and spans[b][1] < spans[a][2]:
            (c, s1, e1), (_, s2, e2) = spans[a], spans[b]
            raise ChromseqError(f"{what}: intervals {c}:{s1}-{e1} and {c}:{s2}-{e2} overlap; a bedGraph / "
                                "bigWig track needs disjoint intervals (merge the BED regions, or write .bed)")
    return np.asarray(order, dtype=np.int64)


def write_bed(path: str | os.PathLike, spans: Sequence[Span], names: Sequence[str], values: np.ndarray,
              feature_names: Sequence[str]) -> None:
    """BED with one value column per feature: ``values`` (N, F) for the N ``spans`` named ``names``."""
    with atomic_open(path, "w") as fh:
        fh.write("\t".join(["#chrom", "start", "end", "name", *feature_names]) + "\n")
        for (chrom, start, end), name, row in zip(spans, names, values):
            name = re.sub(r"\s+", "_", name)  # BED fields are white-space separated for many readers
            fh.write("\t".join([chrom, str(start), str(end), name, *(f"{v:.5g}" for v in row)]) + "\n")


def write_bedgraphs(paths: Sequence[Path], spans: Sequence[Span], values: np.ndarray,
                    feature_names: Sequence[str], contig_order: Sequence[str]) -> None:
    """One bedGraph per column of ``values`` (N, F), with a ``track type=bedGraph`` line."""
    order = _sorted_spans(spans, contig_order, str(paths[0]))
    for f, path in enumerate(paths):
        with atomic_open(path, "w") as fh:
            label = feature_names[f].replace('"', "'")
            fh.write(f'track type=bedGraph name="{label}" description="chromseq predict"\n')
            for i in order:
                chrom, start, end = spans[i]
                fh.write(f"{chrom}\t{start}\t{end}\t{values[i, f]:.5g}\n")


def write_bigwigs(paths: Sequence[Path], spans: Sequence[Span], values: np.ndarray,
                  chrom_sizes: dict[str, int]) -> None:
    """One bigWig (pyBigWig) per column of ``values`` (N, F); ``chrom_sizes`` in the genome's order."""
    import pyBigWig

    order = _sorted_spans(spans, list(chrom_sizes), str(paths[0]))
    chroms = [spans[i][0] for i in order]
    starts = [spans[i][1] for i in order]
    ends = [spans[i][2] for i in order]
    for f, path in enumerate(paths):
        with atomic_output(path) as tmp:
            bw = pyBigWig.open(str(tmp), "w")
            if bw is None:
                raise ChromseqError(f"{path}: pyBigWig cannot create the file")
            try:
                bw.addHeader(list(chrom_sizes.items()), maxZooms=10)
                if chroms:
                    bw.addEntries(chroms, starts, ends=ends, values=[float(v) for v in values[order, f]])
            finally:
                bw.close()
