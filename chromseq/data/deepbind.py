"""DeepBind / Deep Motif Dashboard binary TF-binding data (ENCODE ChIP-seq folds).

``FoldID EventID seq Bound`` tab-separated, gzipped, 101-bp sequences. Training folds (``_AC``)
hold bound sequences only: negatives are made by dinucleotide-preserving shuffles of them.
Test folds (``_B``) hold 500 bound + 500 shuffled. Also reads FASTA whose headers end in a 0/1
label (DeMo's ``train.fa`` / ``test.fa``).
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chromseq.data.windows import center_window
from chromseq.errors import ChromseqError

HEADER = ["FoldID", "EventID", "seq", "Bound"]
_VALID = re.compile(r"^[ACGTN]+$")


@dataclass
class BinarySet:
    ids: list[str]
    seqs: list[str]
    labels: np.ndarray  # (N,) uint8

    def __len__(self) -> int:
        return len(self.seqs)


def _open(path: Path):
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else open(path)


def _fix_lengths(seqs: list[str], path: Path, length: int | None) -> list[str]:
    lengths = {len(s) for s in seqs}
    if length is None:
        if len(lengths) > 1:
            raise ChromseqError(f"{path}: sequences of unequal length ({min(lengths)}-{max(lengths)} bp); "
                                "give a length to pad/crop them to (--length)")
        return seqs
    return [center_window(s, length)[0] for s in seqs]


def read_deepbind(path: str | os.PathLike, *, length: int | None = None) -> BinarySet:
    """Read a DeepBind ``.seq(.gz)`` file; ``length`` pads/crops sequences to one length."""
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    ids, seqs, labels = [], [], []
    with _open(path) as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header != HEADER:
            raise ChromseqError(f"{path}: header {header} is not the DeepBind header {HEADER}")
        for line_no, line in enumerate(fh, 2):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 4:
                raise ChromseqError(f"{path}:{line_no}: expected 4 tab-separated columns, found {len(cols)}")
            seq = cols[2].upper()
            if not _VALID.match(seq):
                bad = next(c for c in seq if c not in "ACGTN")
                raise ChromseqError(f"{path}:{line_no}: character {bad!r} outside ACGTN")
            if cols[3] not in ("0", "1"):
                raise ChromseqError(f"{path}:{line_no}: Bound {cols[3]!r} is not 0 or 1")
            ids.append(cols[1])
            seqs.append(seq)
            labels.append(int(cols[3]))
    if not seqs:
        raise ChromseqError(f"{path}: no sequences")
    return BinarySet(ids, _fix_lengths(seqs, path, length), np.array(labels, np.uint8))


def read_labelled_fasta(path: str | os.PathLike, *, length: int | None = None) -> BinarySet:
    """FASTA whose header's last token (space or '|' separated) is the 0/1 label."""
    from chromseq.data.fasta import read_fasta

    path = Path(path)
    ids, seqs, labels = [], [], []
    with _open(path) as fh:
        headers = [line[1:].strip() for line in fh if line.startswith(">")]
    for header, (_, seq) in zip(headers, read_fasta(path)):
        token = re.split(r"[\s|]+", header)[-1]
        if token not in ("0", "1"):
            raise ChromseqError(f"{path}: header {header!r} does not end in a 0/1 label")
        ids.append(header.split()[0])
        seqs.append(seq)
        labels.append(int(token))
    return BinarySet(ids, _fix_lengths(seqs, path, length), np.array(labels, np.uint8))


def read_binary(path: str | os.PathLike, *, length: int | None = None) -> BinarySet:
    """DeepBind TSV or labelled FASTA, by content."""
    with _open(Path(path)) as fh:
        first = fh.readline()
    return read_labelled_fasta(path, length=length) if first.startswith(">") else read_deepbind(path, length=length)


def with_shuffled_negatives(data: BinarySet, seed: int = 0) -> BinarySet:
    """Add one dinucleotide-shuffled negative per positive (DeepBind's recipe for training folds)."""
    from chromseq.data.shuffle import shuffle_all

    pos = [s for s, y in zip(data.seqs, data.labels) if y == 1]
    if not pos:
        raise ChromseqError("the training fold has no positive (bound) sequences to shuffle")
    neg = shuffle_all(pos, seed)
    ids = [i for i, y in zip(data.ids, data.labels) if y == 1]
    return BinarySet(ids + [f"{i}_shuf" for i in ids], pos + neg,
                     np.r_[np.ones(len(pos), np.uint8), np.zeros(len(neg), np.uint8)])


def read_binary_folds(train_file: str | os.PathLike, test_file: str | os.PathLike, *, length: int | None = None,
                      seed: int = 0):
    """The training and test folds of a binary (TF-binding) task, as ``BinarySet``s.

    A training fold of positives only gets one dinucleotide-shuffled negative per positive
    (DeepBind's recipe); the test fold is read at the training fold's length.
    """
    train = read_binary(train_file, length=length)
    if train.labels.all():
        train = with_shuffled_negatives(train, seed)
    test = read_binary(test_file, length=length or len(train.seqs[0]))
    return train, test
