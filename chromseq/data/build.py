"""Build a DeepSEA-style dataset from a genome and one peak file per feature.

DeepSEA's recipe: the genome is cut into 200-bp bins; a bin is positive for a feature when at
least half of it lies in a peak of that feature (peaks are merged first, so overlapping or
unsorted peaks count once); each sample is the 1000-bp window centered on a bin; only bins with
at least one positive are kept (optionally plus a fraction of all-negative bins); held-out
chromosomes (or regions) form the validation and test sets; reverse complements are added.
Works contig by contig and writes in blocks, so memory is bounded by the largest contig.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chromseq.data.annotations import FeatureTable, classify_assay
from chromseq.data.bed import iter_bed
from chromseq.data.encoding import DEEPSEA_ALPHABET, encode_indices, indices_to_one_hot
from chromseq.errors import ChromseqError

PEAK_SUFFIXES = (".bed", ".bed.gz", ".narrowpeak", ".narrowpeak.gz", ".broadpeak", ".broadpeak.gz")
SPLITS = ("train", "valid", "test")


@dataclass
class Holdout:
    """A whole contig, or a region ``contig:start-end`` (0-based, half-open) of one."""

    contig: str
    start: int = 0
    end: int | None = None

    @classmethod
    def parse(cls, text: str) -> Holdout:
        m = re.fullmatch(r"([^:]+)(?::(\d[\d,]*)-(\d[\d,]*))?", text.strip())
        if not m:
            raise ChromseqError(f"hold-out {text!r}: expected CONTIG or CONTIG:START-END")
        if m.group(2) is None:
            return cls(m.group(1))
        start, end = int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))
        if end <= start:
            raise ChromseqError(f"hold-out {text!r}: end must be after start")
        return cls(m.group(1), start, end)


@dataclass
class FeatureSource:
    path: Path
    name: str
    cell_type: str = "NA"
    element: str = "NA"
    treatment: str = "None"


@dataclass
class BuildReport:
    samples: dict = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    positives: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=lambda: {"off_contig_end": 0, "too_many_n": 0, "straddles_holdout": 0})
    missing_contigs: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


def feature_sources(features: str | os.PathLike) -> list[FeatureSource]:
    """Peak files from a directory (one per feature) or a sheet with file, cell_type, element, treatment."""
    path = Path(features)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.lower().endswith(PEAK_SUFFIXES))
        if not files:
            raise ChromseqError(f"{path}: no .bed / .narrowPeak files (plain or .gz)")
        out = []
        for f in files:
            name = re.sub(r"\.(bed|narrowpeak|broadpeak)(\.gz)?$", "", f.name, flags=re.IGNORECASE)
            parts = name.split("|") if "|" in name else name.split("__")
            if len(parts) == 3:
                out.append(FeatureSource(f, name, *parts))
            else:
                out.append(FeatureSource(f, name, "NA", name, "None"))
        return out
    if not path.exists():
        raise ChromseqError(f"{path}: features directory or sheet not found")
    if path.suffix.lower() in (".xlsx", ".xls"):
        from chromseq.data.annotations import _read_xls, _read_xlsx

        rows = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_xls(path)
    else:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh, delimiter="\t" if path.suffix.lower() != ".csv" else ","))
    header = [h.strip().lower() for h in rows[0]]
    if "file" not in header:
        raise ChromseqError(f"{path}: the sheet needs a 'file' column (and cell_type, element, treatment)")
    col = {k: header.index(k) for k in ("file", "cell_type", "element", "treatment", "name") if k in header}
    out = []
    for i, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        get = lambda k, d="NA", row=row: (row[col[k]].strip() if k in col and col[k] < len(row) and row[col[k]].strip() else d)  # noqa: E731
        f = Path(get("file"))
        f = f if f.is_absolute() else path.parent / f
        if not f.exists():
            raise ChromseqError(f"{path}:{i}: peak file {f} not found")
        cell, element, treatment = get("cell_type"), get("element"), get("treatment", "None")
        out.append(FeatureSource(f, get("name", f"{cell}|{element}|{treatment}"), cell, element, treatment))
    return out


def _merge(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals (any order, overlapping allowed) as sorted disjoint intervals."""
    order = np.argsort(starts, kind="mergesort")
    s, e = starts[order], ends[order]
    running = np.maximum.accumulate(e)
    first = np.flatnonzero(np.r_[True, s[1:] > running[:-1]])
    return s[first], np.maximum.reduceat(e, first)


def bin_overlap(starts: np.ndarray, ends: np.ndarray, n_bins: int, bin_size: int) -> np.ndarray:
    """Bases of each bin covered by the union of the intervals, (n_bins,) int."""
    if not len(starts):
        return np.zeros(n_bins, np.int64)
    s, e = _merge(np.asarray(starts, np.int64), np.asarray(ends, np.int64))
    cum = np.r_[0, np.cumsum(e - s)]

    def covered(x):  # bases of the union in [0, x)
        i = np.searchsorted(e, x, side="right")  # intervals ending at or before x
        partial = np.where(i < len(s), np.clip(x - s[np.minimum(i, len(s) - 1)], 0, None), 0)
        return cum[i] + partial

    edges = np.arange(n_bins + 1, dtype=np.int64) * bin_size
    c = covered(edges)
    return np.diff(c)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_dataset(
    genome: str | os.PathLike,
    features: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    bin_size: int = 200,
    window: int = 1000,
    overlap: float = 0.5,
    holdout_valid: list[str] = ("chr7",),
    holdout_test: list[str] = ("chr8", "chr9"),
    negatives: float = 0.0,
    max_n: float = 0.1,
    reverse_complement: bool = True,
    seed: int = 0,
    block: int = 4096,
) -> dict:
    """Write train.mat (v7.3), valid.mat / test.mat (v5, or v7.3 when too large), features and a manifest."""
    from chromseq.data.fasta import Genome
    from chromseq.data.mat import MatV73Writer, open_dataset
    from chromseq.data.matv5 import MatV5Writer
    from chromseq.outputs import write_json

    if window < bin_size:
        raise ChromseqError(f"window ({window}) must be at least the bin size ({bin_size})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sources = feature_sources(features)
    k = len(sources)
    g = Genome(genome)
    report = BuildReport(positives={s: np.zeros(k, np.int64) for s in SPLITS})
    holds = {"valid": [Holdout.parse(h) for h in holdout_valid], "test": [Holdout.parse(h) for h in holdout_test]}
    # peaks per contig, per feature
    peaks: dict[str, list[tuple[list[int], list[int]]]] = {c: [([], []) for _ in range(k)] for c in g.contigs}
    for j, src in enumerate(tqdm(sources, desc="peaks", unit="file", disable=None)):
        n = 0
        for iv in iter_bed(src.path, report.problems):
            contig = g.resolve(iv.chrom)
            if contig is None:
                report.missing_contigs[iv.chrom] = report.missing_contigs.get(iv.chrom, 0) + 1
                continue
            peaks[contig][j][0].append(iv.start)
            peaks[contig][j][1].append(iv.end)
            n += 1
        if n == 0:
            report.problems.append(f"{src.path}: no peaks on the genome's contigs (an all-zero feature)")
    rng = np.random.default_rng(seed)
    half = window // 2
    writers = {s: MatV73Writer(out / f".{s}.v73.mat", window, k, split=s) for s in SPLITS}
    try:
        for contig, length in tqdm(g.contigs.items(), desc="contigs", unit="contig", disable=None):
            n_bins = length // bin_size
            if n_bins == 0:
                continue
            labels = np.zeros((n_bins, k), np.uint8)
            for j, (starts, ends) in enumerate(peaks[contig]):
                labels[:, j] = bin_overlap(np.array(starts), np.array(ends), n_bins, bin_size) >= overlap * bin_size
            keep = labels.any(1)
            if negatives > 0:
                keep |= (~keep) & (rng.random(n_bins) < negatives)
            bins = np.flatnonzero(keep)
            centers = bins * bin_size + bin_size // 2
            starts = centers - half
            ok = (starts >= 0) & (starts + window <= length)
            report.skipped["off_contig_end"] += int((~ok).sum())
            bins, starts = bins[ok], starts[ok]
            split = np.full(len(bins), "train", dtype=object)
            for name in ("valid", "test"):
                for h in holds[name]:
                    if g.resolve(h.contig) != contig:
                        continue
                    end = h.end if h.end is not None else length
                    inside = (starts >= h.start) & (starts + window <= end)
                    straddle = (starts < end) & (starts + window > h.start) & ~inside
                    split[inside] = name
                    split[straddle] = "drop"
            report.skipped["straddles_holdout"] += int((split == "drop").sum())
            if not len(bins):
                continue
            seq = encode_indices(g.fetch(contig, 0, length), "ACGT", strict=False)
            order = np.array(["ACGT".index(b) for b in DEEPSEA_ALPHABET] + [4])
            inverse = np.argsort(order[:4])
            for name in SPLITS:
                sel = np.flatnonzero(split == name)
                for lo in range(0, len(sel), block):
                    part = sel[lo : lo + block]
                    idx = seq[starts[part][:, None] + np.arange(window)]
                    clean = (idx == 4).mean(1) <= max_n
                    report.skipped["too_many_n"] += int((~clean).sum())
                    idx, y = idx[clean], labels[bins[part][clean]]
                    if not len(idx):
                        continue
                    x = indices_to_one_hot(np.where(idx < 4, inverse[np.minimum(idx, 3)], 4))
                    writers[name].append(x, y)
                    report.positives[name] += y.sum(0, dtype=np.int64) * (2 if reverse_complement else 1)
                    report.samples[name] += len(x) * (2 if reverse_complement else 1)
                    if reverse_complement:
                        writers[name].append(x[:, ::-1, ::-1], y)  # AGCT: complement = reversed channels
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    g.close()
    # train stays v7.3; valid/test become v5 unless too large
    os.replace(out / ".train.v73.mat", out / "train.mat")
    for name in ("valid", "test"):
        tmp = out / f".{name}.v73.mat"
        ds = open_dataset(tmp)
        if ds.n_samples and ds.n_samples * window * 4 < 2**31 - 1:
            with ds, MatV5Writer(out / f"{name}.mat", ds.n_samples, window, ds.n_features, split=name) as writer:
                for _, x, y in ds.iter_blocks(16384):  # block by block: memory does not grow with the split
                    writer.append(x, y)
            tmp.unlink()
        else:
            ds.close()
            os.replace(tmp, out / f"{name}.mat")
    table = FeatureTable([s.name for s in sources], [s.cell_type for s in sources], [s.element for s in sources],
                         [s.treatment for s in sources], [classify_assay(s.element) for s in sources])
    table.write_tsv(out / "features.tsv")
    table.write_xlsx(out / "features.xlsx")
    manifest = {
        "genome": {"path": str(genome), "sha256": _sha256(Path(genome)), "contigs": len(g.contigs)},
        "features": [{"name": s.name, "file": str(s.path), "sha256": _sha256(s.path),
                      **{f"positives_{sp}": int(report.positives[sp][j]) for sp in SPLITS}}
                     for j, s in enumerate(sources)],
        "parameters": {"bin_size": bin_size, "window": window, "overlap": overlap, "holdout_valid": list(holdout_valid),
                       "holdout_test": list(holdout_test), "negatives": negatives, "max_n": max_n,
                       "reverse_complement": reverse_complement, "seed": seed, "alphabet": DEEPSEA_ALPHABET},
        "samples": report.samples, "skipped": report.skipped, "missing_contigs": report.missing_contigs,
        "problems": report.problems[:200], "n_problems": len(report.problems),
    }
    write_json(out / "manifest.json", manifest)
    return manifest
