"""The first pass of the streamed baseline: k-mer counts of a data file, block by block, into an
on-disk cache (HDF5, uint16 counts and uint8 labels), with the statistics the fit needs.

Counting is the slow part of a pass (~6,000 sequences of 1000 bp a second on one core), so each
later pass of the fit reads the cached counts (2.7 kB a sample) instead of recounting the
one-hot (4 kB a sample); nothing of the whole file is held in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from chromseq.baseline.kmer import kmer_counts
from chromseq.baseline.kmer_stats import KmerStats, KmerStatsAccumulator
from chromseq.baseline.logistic import Blocks

COUNTS, LABELS = "counts", "labels"


def count_dtype(seq_len: int) -> np.dtype:
    """uint16 holds every count of a sequence up to 65,535 bp exactly."""
    return np.dtype(np.uint16 if seq_len <= np.iinfo(np.uint16).max else np.uint32)


def cache_counts(ds, path: str | os.PathLike, *, block_size: int = 4096, kmax: int = 5,
                 verbose: bool = True) -> KmerStats:
    """Count k-mers of every sample of the labelled dataset ``ds`` (``chromseq.data.SeqDataset``)
    into the HDF5 file ``path`` and return their ``KmerStats``."""
    import h5py
    from tqdm.auto import tqdm

    from chromseq.baseline.kmer import kmer_names

    n, k, d = ds.n_samples, ds.n_features, len(kmer_names(kmax))
    acc = KmerStatsAccumulator()
    rows = min(block_size, max(n, 1))
    with h5py.File(path, "w") as f, tqdm(total=n, desc="k-mer counts", unit="seq", disable=not verbose,
                                         leave=False) as bar:
        counts_ds = f.create_dataset(COUNTS, (n, d), count_dtype(ds.seq_len), chunks=(rows, d))
        labels_ds = f.create_dataset(LABELS, (n, k), np.uint8, chunks=(rows, k))
        for start, x, y in ds.iter_blocks(block_size):
            counts = kmer_counts(x, kmax, alphabet=ds.alphabet)
            counts_ds[start : start + len(x)] = counts
            labels_ds[start : start + len(x)] = y
            acc.add(counts, y)
            bar.update(len(x))
    return acc.finish()


def cached_blocks(path: str | os.PathLike, block_size: int = 4096) -> Blocks:
    """``blocks`` (counts, labels) read back from a ``cache_counts`` file, one block at a time."""
    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        import h5py

        with h5py.File(path, "r") as f:
            counts_ds, labels_ds = f[COUNTS], f[LABELS]
            for lo in range(0, len(counts_ds), block_size):
                yield counts_ds[lo : lo + block_size], labels_ds[lo : lo + block_size]

    return blocks
