"""Predict chromatin features for FASTA records, BED regions of a genome, or one-hot files."""

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


def predict_bed(rm: RunModel, bed: str | os.PathLike, genome: str | os.PathLike, *, rc_average: bool = False,
                batch_size: int = 256, chunk: int = 4096) -> Predictions:
    """One prediction per BED interval: the model's window centered on the interval's middle."""
    from chromseq.data.bed import iter_bed
    from chromseq.data.fasta import Genome

    out = Predictions()
    g = Genome(genome)

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
            center = (iv.start + iv.end) // 2
            start = center - rm.seq_len // 2
            seq = g.fetch(contig, start, start + rm.seq_len)
            note = f"{contig}:{start}-{start + rm.seq_len}"
            if start < 0 or start + rm.seq_len > g.contigs[contig]:
                note += " (N-padded past the contig end)"
            yield iv.name, seq, note

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


def write_predictions(path: str | os.PathLike, preds: Predictions, feature_names: list[str],
                      columns: np.ndarray) -> None:
    """TSV (name, note, one column per feature) or HDF5 (``.h5``/``.hdf5``)."""
    path = Path(path)
    matrix = preds.matrix(len(feature_names))[:, columns]
    names = [feature_names[i] for i in columns]
    # written under a temporary name and renamed when complete: a failure never leaves half a file
    if path.suffix in (".h5", ".hdf5"):
        with H5Output(path) as f:
            f["predictions"] = matrix
            f["names"] = np.array(preds.names, dtype=object).astype("S")
            f["notes"] = np.array(preds.notes, dtype=object).astype("S")
            f["features"] = np.array(names, dtype=object).astype("S")
        return
    with atomic_open(path, "w") as fh:
        fh.write("\t".join(["name", "window", *names]) + "\n")
        for name, note, row in zip(preds.names, preds.notes, matrix):
            fh.write("\t".join([name, note, *(f"{v:.5g}" for v in row)]) + "\n")


def predict_run(run_dir: str | os.PathLike, out: str | os.PathLike, *, fasta: str | os.PathLike | None = None,
                bed: str | os.PathLike | None = None, genome: str | os.PathLike | None = None,
                data: str | os.PathLike | None = None, rc_average: bool = False, pattern: str | None = None,
                batch_size: int = 256) -> tuple[Predictions, str]:
    """Predict with a run's model for exactly one of ``fasta``, ``bed`` (with ``genome``) or
    one-hot ``data``; write the ``pattern``-selected features to ``out`` (.tsv or .h5).

    Returns the predictions and a one-line summary (sequences, features, windows, skipped).
    """
    from chromseq.outputs import check_writable

    if sum(x is not None for x in (fasta, bed, data)) != 1:
        raise ChromseqError("give exactly one of --fasta, --bed (with --genome) or --data")
    if bed and not genome:
        raise ChromseqError("--bed needs --genome")
    check_writable(out)
    rm = RunModel.load(run_dir)
    if fasta:
        preds = predict_fasta(rm, fasta, rc_average=rc_average, batch_size=batch_size)
    elif bed:
        preds = predict_bed(rm, bed, genome, rc_average=rc_average, batch_size=batch_size)
    else:
        preds = predict_onehot(rm, data, rc_average=rc_average, batch_size=batch_size)
    columns = rm.select(pattern)
    write_predictions(out, preds, rm.feature_names, columns)
    notes: dict[str, int] = {}
    for note in preds.notes:
        key = note.split(" ")[0] if not note.startswith(("chr", "NC_")) else ("padded" if "padded" in note else "exact")
        notes[key] = notes.get(key, 0) + 1
    line = (f"{len(preds.names)} sequences x {len(columns)} features -> {out} "
            f"(windows of {rm.seq_len} bp: {', '.join(f'{v} {k}' for k, v in notes.items())}); "
            f"{len(preds.problems)} skipped")
    return preds, line
