"""One-time conversion of a DeepSEA train.mat into a sample-major, chunked (bit-packed) HDF5 store.

train.mat keeps samples on its last axis, so a block of samples is a strided read across the
whole file and only large contiguous blocks read fast. The store written here keeps each
sample's bytes together in chunks of ``chunk_samples`` rows: any small block reads at full
speed, so training can shuffle with small blocks and a deep pool at the same memory. With
``pack`` (the default) the one-hot and the labels are bit-packed (``np.packbits``): 500 bytes
per 1000-bp sample instead of 4000, 115 bytes per 919 labels, and N (an all-zero row) survives.

Layout (``open_dataset`` reads it like any other file)::

    /x  (N, ceil(4L/8)) uint8, attrs packed_shape=(L, 4)    or (N, L, 4) uint8 unpacked
    /y  (N, ceil(K/8)) uint8,  attrs packed_features=K      or (N, K) uint8 unpacked
    attrs: chromseq_store=1, alphabet, source
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from chromseq.data.encoding import pack_onehot
from chromseq.data.mat import open_dataset
from chromseq.errors import ChromseqError
from chromseq.outputs import H5Output, atomic_output

STORE_VERSION = 1


def convert_dataset(src: str | os.PathLike, out: str | os.PathLike, *, pack: bool = True, chunk_samples: int = 256,
                    compression: str | None = None, block_size: int = 16384, max_samples: int | None = None,
                    progress: bool = True) -> dict:
    """Copy ``src`` (any file ``open_dataset`` reads) into a sample-major store at ``out``.

    Reads ``src`` in contiguous blocks (memory ~ ``block_size`` samples), writes to a temporary
    file and renames it at the end, so an interrupted conversion leaves no half-written store.
    ``features.tsv`` beside ``src`` is copied beside ``out`` unless one is there. Returns a summary dict.
    """
    from tqdm.auto import tqdm

    if compression not in (None, "lzf", "gzip"):
        raise ChromseqError(f"compression must be none, lzf or gzip, got {compression!r}")
    if chunk_samples <= 0 or block_size <= 0:
        raise ChromseqError("chunk_samples and block_size must be positive")
    out = Path(out)
    if out.resolve() == Path(src).resolve():
        raise ChromseqError(f"{out}: output would overwrite the input")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_dataset(src, max_samples=max_samples) as ds:
        n, length, k = ds.n_samples, ds.seq_len, ds.n_features
        if not ds.has_labels:
            raise ChromseqError(f"{src}: no labels to convert")
        chunk = min(chunk_samples, max(n, 1))
        x_shape = (n, -(-4 * length // 8)) if pack else (n, length, 4)
        y_shape = (n, -(-k // 8)) if pack else (n, k)
        store = H5Output(out)  # a temporary file, renamed into place when complete (never half a store)
        with store as fh:
            fh.attrs.update(chromseq_store=STORE_VERSION, alphabet=ds.alphabet, source=str(Path(src).resolve()))
            xd = fh.create_dataset("x", shape=x_shape, dtype=np.uint8, chunks=(chunk, *x_shape[1:]),
                                   compression=compression)
            yd = fh.create_dataset("y", shape=y_shape, dtype=np.uint8, chunks=(chunk, y_shape[1]),
                                   compression=compression)
            if pack:
                xd.attrs["packed_shape"] = (length, 4)
                yd.attrs["packed_features"] = k
            positives = np.zeros(k, np.int64)
            with tqdm(total=n, disable=not progress, desc="convert", unit="sample", unit_scale=True) as bar:
                for start, x, y in ds.iter_blocks(block_size):
                    stop = start + len(x)
                    xd[start:stop] = pack_onehot(x) if pack else x
                    yd[start:stop] = np.packbits(y.astype(bool), axis=1) if pack else y
                    positives += y.sum(axis=0, dtype=np.int64)
                    store.check()  # a full disk stops here: "<out>: no space left on device"
                    bar.update(len(x))
    table, target = Path(src).with_name("features.tsv"), out.with_name("features.tsv")
    if table.exists() and not target.exists():  # never clobber a table the user put there
        with atomic_output(target) as tmp:
            shutil.copyfile(table, tmp)
    return {"source": str(src), "out": str(out), "samples": n, "seq_len": length, "features": k, "packed": pack,
            "chunk_samples": chunk, "compression": compression or "none",
            "bytes_in": Path(src).stat().st_size, "bytes_out": out.stat().st_size,
            "positives_total": int(positives.sum())}
