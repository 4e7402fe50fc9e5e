"""Genomes for next-nucleotide models: base indices, contiguous train/valid/test regions, windows.

Bases are indices 0-3 in ACGT order and 4 for N or any IUPAC code. Each record is split into
contiguous regions (train first, then valid, then test), so no training window overlaps a
held-out base; windows never cross a record or region boundary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq.data.encoding import encode_indices
from chromseq.errors import ChromseqError


@dataclass
class Genome:
    """Base indices per region (lists of arrays, one per record) and what was found in the file."""

    name: str
    train: list[np.ndarray] = field(default_factory=list)
    valid: list[np.ndarray] = field(default_factory=list)
    test: list[np.ndarray] = field(default_factory=list)
    records: int = 0
    bases: int = 0
    ambiguous: int = 0

    def describe(self) -> dict:
        size = lambda parts: int(sum(len(p) for p in parts))  # noqa: E731
        return {"genome": self.name, "records": self.records, "bases": self.bases,
                "n_or_iupac": self.ambiguous, "train_bases": size(self.train), "valid_bases": size(self.valid),
                "test_bases": size(self.test),
                "split": "each record cut into contiguous train | valid | test regions, in that order"}


def read_sequences(path: str | os.PathLike) -> list[tuple[str, str]]:
    """FASTA records, or the whole file as one sequence when it has no '>' header (plain text)."""
    from chromseq.data.fasta import check_sequence, read_fasta

    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    import gzip

    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rt") if gz else open(path)) as fh:
        head = fh.read(4096).lstrip()
    if not head:
        raise ChromseqError(f"{path}: empty file")
    if head.startswith(">"):
        return list(read_fasta(path))
    with (gzip.open(path, "rt") if gz else open(path)) as fh:
        seq = "".join(line.strip() for line in fh).upper()
    check_sequence(seq, str(path))
    return [(path.stem, seq)]


def load_genome(path: str | os.PathLike, *, valid_fraction: float = 0.1, test_fraction: float = 0.1,
                min_length: int = 1) -> Genome:
    """Read a genome and split every record into contiguous train / valid / test regions."""
    if not 0 < valid_fraction + test_fraction < 1:
        raise ChromseqError("valid_fraction + test_fraction must be between 0 and 1")
    genome = Genome(Path(path).name)
    for _, seq in read_sequences(path):
        idx = encode_indices(seq, "ACGT")
        genome.records += 1
        genome.bases += len(idx)
        genome.ambiguous += int((idx == 4).sum())
        n = len(idx)
        a = int(round(n * (1 - valid_fraction - test_fraction)))
        b = int(round(n * (1 - test_fraction)))
        genome.train.append(idx[:a])
        genome.valid.append(idx[a:b])
        genome.test.append(idx[b:])
    if genome.bases == 0 or genome.ambiguous == genome.bases:
        raise ChromseqError(f"{path}: no valid bases (A, C, G, T)")
    if sum(len(p) for p in genome.train) < min_length:
        raise ChromseqError(f"{path}: the training region ({sum(len(p) for p in genome.train)} bp) is shorter "
                            f"than one window ({min_length} bp)")
    return genome


def windows(parts: list[np.ndarray], seq_len: int, *, rng: np.random.Generator | None = None,
            skip_n: bool = True) -> np.ndarray:
    """Windows of ``seq_len + 1`` bases (input + next-base target), (W, seq_len + 1).

    Without ``rng``: the non-overlapping grid (evaluation). With ``rng``: as many windows at random
    starts (training), so a model cannot learn the position of a base in a grid-aligned window
    instead of its context. Windows with N are dropped when ``skip_n`` (otherwise the caller
    masks N targets out of the loss).
    """
    out = []
    for part in parts:
        n = (len(part) - 1) // seq_len
        if n <= 0:
            continue
        starts = np.arange(n) * seq_len if rng is None else rng.integers(0, len(part) - seq_len, n)
        idx = starts[:, None] + np.arange(seq_len + 1)
        w = part[idx]
        if skip_n:
            w = w[(w < 4).all(1)]
        out.append(w)
    return np.concatenate(out) if out else np.zeros((0, seq_len + 1), np.uint8)
