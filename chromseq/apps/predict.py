"""Predict chromatin features for FASTA records, BED regions of a genome, or one-hot files.

Output formats (from ``--out``'s extension, or ``fmt``): ``.tsv``, ``.csv`` (comma-separated,
quoted where needed), ``.h5`` / ``.hdf5``, and for BED regions only (they need coordinates)
``.bed``, ``.bedgraph`` / ``.bdg`` and ``.bw`` / ``.bigwig`` (see ``chromseq.apps.tracks``).
Feature columns are named as in the run; when selected names repeat (the real DeepSEA list
has 54 repeated names), every column is named ``<index>:<name>`` with the model's output index.

Tiling (``tile=STEP`` with BED regions): each region is cut into bins of STEP bp from its start
(the last bin ends at the region's end and may be shorter); each bin is predicted with the model's
window centered on the bin's middle, as any BED interval is, and its prediction is assigned to
the bin. With L - STEP even (DeepSEA: L = 1000, STEP = 200) the bin is exactly the window's
central STEP bp: the DeepSEA / Janggu convention of a prediction per 200-bp bin from a 1000-bp
window.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chromseq import runs
from chromseq.data.encoding import one_hot
from chromseq.data.windows import center_window
from chromseq.errors import ChromseqError, warn
from chromseq.inference import predict_batches
from chromseq.outputs import H5Output, atomic_open


@dataclass
class Predictions:
    """Rows of predictions with their labels and notes."""

    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # BED rows: contig, start, end
    chrom_sizes: dict[str, int] = field(default_factory=dict)  # the genome's contigs, for bigWig

    def matrix(self, k: int) -> np.ndarray:
        return np.concatenate(self.values) if self.values else np.zeros((0, k), np.float32)


@dataclass
class RunModel:
    """A trained model with what it needs from its run: length, alphabet, feature names."""

    model: object
    seq_len: int
    alphabet: str
    feature_names: list[str]

    run: runs.Run | None = None

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> RunModel:
        """The model of a run directory with its input length, alphabet and feature names."""
        run = runs.Run.open(run_dir)
        if not run.seq_len:
            raise ChromseqError(f"{run_dir}: dataset.json does not say the model's sequence length")
        return cls(run.model, int(run.seq_len), run.alphabet, run.feature_names, run)

    def select(self, pattern: str | None) -> np.ndarray:
        """Indices of the features whose names match ``pattern`` (or indices ``0,5,7``); all when empty."""
        if not pattern:
            return np.arange(len(self.feature_names))
        from chromseq.data.annotations import FeatureTable

        na = ["NA"] * len(self.feature_names)
        return FeatureTable(list(self.feature_names), na, na, na, na).select(pattern)

    def predict(self, seqs: list[str], *, rc_average: bool, batch_size: int) -> np.ndarray:
        x = one_hot(seqs, self.alphabet, strict=False)
        return predict_batches(self.model, x, batch_size=batch_size, rc_average=rc_average, alphabet=self.alphabet)


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run(rm: RunModel, windows: Iterator[tuple[str, str, str]], *, rc_average: bool, batch_size: int,
         chunk: int, total: int | None, desc: str, out: Predictions) -> Predictions:
    with tqdm(total=total, desc=desc, unit="seq", disable=None) as bar:
        for part in _chunks(windows, chunk):
            names, seqs, notes = zip(*part)
            out.values.append(rm.predict(list(seqs), rc_average=rc_average, batch_size=batch_size))
            out.names.extend(names)
            out.notes.extend(notes)
            bar.update(len(part))
    return out


def predict_fasta(rm: RunModel, fasta: str | os.PathLike, *, rc_average: bool = False, batch_size: int = 256,
                  chunk: int = 4096) -> Predictions:
    """One prediction per FASTA record, the record centered in the model's window."""
    from chromseq.data.fasta import read_fasta

    out = Predictions()
    seen: set[str] = set()
    ambiguous: list[str] = []

    def windows():
        for name, seq in read_fasta(fasta, check=True):  # refuses empty records and odd characters
            if name in seen:  # the output's rows are keyed by name
                raise ChromseqError(f"{fasta}: record name {name!r} appears more than once; record names "
                                    "must be unique")
            seen.add(name)
            if len(seq) - sum(seq.count(b) for b in "ACGT"):
                ambiguous.append(name)
            window, note = center_window(seq, rm.seq_len)
            if note != "exact":
                note = f"{note} from {len(seq)} bp"
            yield name, window, note

    _run(rm, windows(), rc_average=rc_average, batch_size=batch_size, chunk=chunk, total=None,
         desc="predict", out=out)
    if ambiguous:
        warn(f"{fasta}: {len(ambiguous)} record(s) hold N or other IUPAC codes, read as N (no base): "
             f"{', '.join(ambiguous[:5])}{', ...' if len(ambiguous) > 5 else ''}")
    return out


def tile_interval(start: int, end: int, step: int) -> list[tuple[int, int]]:
    """Bins of ``step`` bp covering [start, end) from ``start``; the last one ends at ``end``."""
    return [(a, min(a + step, end)) for a in range(start, end, step)]


def predict_bed(rm: RunModel, bed: str | os.PathLike, genome: str | os.PathLike, *, rc_average: bool = False,
                batch_size: int = 256, chunk: int = 4096, tile: int | None = None) -> Predictions:
    """One prediction per BED interval (or per ``tile``-bp bin of each interval): the model's window
    centered on the interval's (bin's) middle; ``spans`` holds each row's coordinates."""
    from chromseq.data.bed import iter_bed
    from chromseq.data.fasta import Genome

    if tile is not None and tile < 1:
        raise ChromseqError(f"--tile {tile}: the bin size must be a positive number of bp")
    out = Predictions()
    g = Genome(genome)
    out.chrom_sizes = dict(g.contigs)

    def windows():
        for iv in iter_bed(bed, out.problems):
            contig = g.resolve(iv.chrom)
            if contig is None:
                out.problems.append(f"{bed}:{iv.line_no}: contig {iv.chrom!r} not in {genome}")
                continue
            if iv.start >= g.contigs[contig]:
                out.problems.append(f"{bed}:{iv.line_no}: start {iv.start} beyond the end of {contig} "
                                    f"({g.contigs[contig]} bp)")
                continue
            end = min(iv.end, g.contigs[contig])  # track files may not run past a contig
            bins = tile_interval(iv.start, end, tile) if tile else [(iv.start, iv.end)]
            for a, b in bins:
                center = (a + b) // 2
                start = center - rm.seq_len // 2
                seq = g.fetch(contig, start, start + rm.seq_len)
                note = f"{contig}:{start}-{start + rm.seq_len}"
                if start < 0 or start + rm.seq_len > g.contigs[contig]:
                    note += " (N-padded past the contig end)"
                out.spans.append((contig, a, min(b, end)))
                yield (f"{contig}:{a}-{b}" if tile else iv.name), seq, note

    result = _run(rm, windows(), rc_average=rc_average, batch_size=batch_size, chunk=chunk, total=None,
                  desc="predict", out=out)
    g.close()
    return result


def predict_onehot(rm: RunModel, data: str | os.PathLike, *, rc_average: bool = False, batch_size: int = 256,
                   block: int = 16384) -> Predictions:
    """Predictions for a one-hot file the data layer reads (.mat, .h5, .npz), cropped to the model."""
    if rm.run is None:
        raise ChromseqError("predict_onehot needs a RunModel loaded from its run (RunModel.load(run_dir))")
    out = Predictions()
    with rm.run.fit_data(data, feature_subset=False) as ds:  # cropped to the model, in its alphabet
        for start, x, _ in tqdm(ds.iter_blocks(block), desc="predict", unit="block", disable=None):
            out.values.append(predict_batches(rm.model, x, batch_size=batch_size, rc_average=rc_average,
                                              alphabet=rm.alphabet))
            out.names.extend(f"{Path(data).name}:{i}" for i in range(start, start + len(x)))
            out.notes.extend(["cropped" if ds.crop else "exact"] * len(x))
    return out


FORMATS = {".tsv": "tsv", ".txt": "tsv", ".csv": "csv", ".h5": "h5", ".hdf5": "h5", ".bed": "bed",
           ".bedgraph": "bedgraph", ".bdg": "bedgraph", ".bw": "bigwig", ".bigwig": "bigwig"}
TRACK_FORMATS = ("bed", "bedgraph", "bigwig")


def output_format(out: str | os.PathLike, fmt: str | None = None) -> str:
    """'tsv', 'csv', 'h5', 'bed', 'bedgraph' or 'bigwig': ``fmt`` when given, else from ``out``'s extension."""
    allowed = sorted(set(FORMATS.values()))
    if fmt:
        if fmt.lower() not in allowed:
            raise ChromseqError(f"--format {fmt}: unknown format; allowed: {', '.join(allowed)}")
        return fmt.lower()
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise ChromseqError(f"--out {out}: unknown output format {suffix or '(no extension)'!r}; allowed: "
                            f"{', '.join(FORMATS)} (or --format {'|'.join(allowed)})")
    return FORMATS[suffix]


def unique_feature_names(feature_names: list[str], columns: np.ndarray) -> list[str]:
    """The names of the selected ``columns``; all as ``<index>:<name>`` when some names repeat."""
    names = [feature_names[i] for i in columns]
    if len(set(names)) == len(names):
        return names
    return [f"{i}:{feature_names[i]}" for i in columns]


def write_predictions(path: str | os.PathLike, preds: Predictions, feature_names: list[str],
                      columns: np.ndarray, fmt: str | None = None) -> list[Path]:
    """Write the ``columns`` of ``preds`` to ``path`` in ``fmt`` (default: from the extension);
    returns the files written (several for per-feature bedGraph / bigWig tracks)."""
    from chromseq.apps import tracks

    path = Path(path)
    fmt = output_format(path, fmt)
    matrix = preds.matrix(len(feature_names))[:, columns]
    names = unique_feature_names(feature_names, columns)
    # written under a temporary name and renamed when complete: a failure never leaves half a file
    if fmt == "h5":
        with H5Output(path) as f:
            f["predictions"] = matrix
            f["names"] = np.array(preds.names, dtype=object).astype("S")
            f["notes"] = np.array(preds.notes, dtype=object).astype("S")
            f["features"] = np.array(names, dtype=object).astype("S")
            f["feature_index"] = np.asarray(columns, dtype=np.int64)
            if preds.spans:
                f["chrom"] = np.array([c for c, _, _ in preds.spans], dtype="S")
                f["start"] = np.array([a for _, a, _ in preds.spans], dtype=np.int64)
                f["end"] = np.array([b for _, _, b in preds.spans], dtype=np.int64)
        return [path]
    if fmt == "tsv":
        with atomic_open(path, "w") as fh:
            fh.write("\t".join(["name", "window", *names]) + "\n")
            for name, note, row in zip(preds.names, preds.notes, matrix):
                fh.write("\t".join([name, note, *(f"{v:.5g}" for v in row)]) + "\n")
        return [path]
    if fmt == "csv":
        import csv

        with atomic_open(path, "w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")  # quotes names holding commas or quotes
            writer.writerow(["name", "window", *names])
            for name, note, row in zip(preds.names, preds.notes, matrix):
                writer.writerow([name, note, *(f"{v:.5g}" for v in row)])
        return [path]
    if len(preds.spans) != len(preds.names):
        raise ChromseqError(f"--out {path}: {fmt} needs genome coordinates: predict --bed regions --genome ref.fa")
    if fmt == "bed":
        tracks.write_bed(path, preds.spans, preds.names, matrix, names)
        return [path]
    paths = tracks.track_paths(path, [(int(i), feature_names[i]) for i in columns])
    if fmt == "bedgraph":
        tracks.write_bedgraphs(paths, preds.spans, matrix, names, list(preds.chrom_sizes))
    else:
        tracks.write_bigwigs(paths, preds.spans, matrix, preds.chrom_sizes)
    return paths


def predict_run(run_dir: str | os.PathLike, out: str | os.PathLike, *, fasta: str | os.PathLike | None = None,
                bed: str | os.PathLike | None = None, genome: str | os.PathLike | None = None,
                data: str | os.PathLike | None = None, rc_average: bool = False, pattern: str | None = None,
                batch_size: int = 256, fmt: str | None = None, tile: int | None = None) -> tuple[Predictions, str]:
    """Predict with a run's model for exactly one of ``fasta``, ``bed`` (with ``genome``, optionally
    cut into ``tile``-bp bins) or one-hot ``data``; write the ``pattern``-selected features to
    ``out`` in ``fmt`` (default: from the extension; see the module docstring).

    Returns the predictions and a one-line summary (sequences, features, windows, skipped).
    """
    from chromseq.apps.tracks import track_paths
    from chromseq.outputs import check_writable

    if sum(x is not None for x in (fasta, bed, data)) != 1:
        raise ChromseqError("give exactly one of --fasta, --bed (with --genome) or --data")
    if bed and not genome:
        raise ChromseqError("--bed needs --genome")
    kind = output_format(out, fmt)
    if kind in TRACK_FORMATS and not bed:
        raise ChromseqError(f"--out {out}: {kind} needs genome coordinates: predict --bed regions --genome ref.fa")
    if tile is not None and not bed:
        raise ChromseqError("--tile cuts BED regions into bins: it needs --bed (with --genome)")
    check_writable(out)
    rm = RunModel.load(run_dir)
    columns = rm.select(pattern)
    if kind in ("bedgraph", "bigwig"):  # refused before any work: one file per feature
        for path in track_paths(out, [(int(i), rm.feature_names[i]) for i in columns]):
            check_writable(path)
    if fasta:
        preds = predict_fasta(rm, fasta, rc_average=rc_average, batch_size=batch_size)
    elif bed:
        preds = predict_bed(rm, bed, genome, rc_average=rc_average, batch_size=batch_size, tile=tile)
    else:
        preds = predict_onehot(rm, data, rc_average=rc_average, batch_size=batch_size)
    written = write_predictions(out, preds, rm.feature_names, columns, kind)
    notes: dict[str, int] = {}
    for note in preds.notes:
        key = ("padded" if "padded" in note else "exact") if preds.spans else note.split(" ")[0]
        notes[key] = notes.get(key, 0) + 1
    where = str(out) if len(written) == 1 else f"{len(written)} {kind} files ({written[0]}, ...)"
    line = (f"{len(preds.names)} {'bins' if tile else 'sequences'} x {len(columns)} features -> {where} "
            f"(windows of {rm.seq_len} bp: {', '.join(f'{v} {k}' for k, v in notes.items())}); "
            f"{len(preds.problems)} skipped")
    return preds, line
