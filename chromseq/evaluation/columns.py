"""Predictions and labels of a whole dataset kept on disk, feature by feature.

Exact per-feature AUROC needs every sample's score for that feature, but not every feature at
once: blocks of predictions are written column-major (feature by feature) to two temporary
files as they arrive, and each feature's column is read back alone. Evaluating the 455,024 x 919 DeepSEA test set
then holds one block and one column (a few MB) instead of 2.1 GB of scores and labels.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from chromseq.data.matv5 import read_column_major, write_column_major


class ColumnStore:
    """``add`` blocks of (n, K) scores and labels in sample order; read ``column(j)`` back.

    Use as a context manager: the temporary files (5 bytes per sample and feature, in
    ``folder``) are removed on exit.
    """

    def __init__(self, folder: str | os.PathLike, n: int, k: int) -> None:
        self.n, self.k, self.filled = n, k, 0
        Path(folder).mkdir(parents=True, exist_ok=True)
        self._files = {name: tempfile.TemporaryFile(dir=folder, prefix=f".{name}-")
                       for name in ("score", "label")}
        self._dtypes = {"score": np.dtype("<f4"), "label": np.dtype("u1")}

    def add(self, score: np.ndarray, label: np.ndarray) -> None:
        """The next ``len(score)`` samples: scores (n, K) float, labels (n, K) 0/1."""
        start, m = self.filled, len(score)
        if start + m > self.n or score.shape != (m, self.k) or label.shape != (m, self.k):
            raise ValueError(f"block {score.shape}/{label.shape} does not fit {self.n} x {self.k} at sample {start}")
        for name, block in (("score", score), ("label", label)):
            write_column_major(self._files[name], 0, self.n, start, np.asarray(block, self._dtypes[name]))
        self.filled += m

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Labels (N,) uint8 and scores (N,) float32 of feature ``j``."""
        one = range(j, j + 1)
        return self._read("label", 0, self.n, one)[:, 0], self._read("score", 0, self.n, one)[:, 0]

    def rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` of ``score`` or ``label`` as (n, K)."""
        return self._read(name, start, stop, range(self.k))

    def _read(self, name: str, start: int, stop: int, columns: range) -> np.ndarray:
        return read_column_major(self._files[name], 0, self.n, self._dtypes[name], start, stop, columns)

    def write_npz(self, path: str | os.PathLike, block: int = 16384, **small: np.ndarray) -> None:
        """A compressed ``.npz`` with ``y_true`` (N, K) uint8, ``y_pred`` (N, K) float32 and ``small``
        arrays, as ``np.savez_compressed`` writes it, streamed block by block."""
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for key, name in (("y_true", "label"), ("y_pred", "score")):
                with zf.open(f"{key}.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(self._dtypes[name]),
                                                               "fortran_order": False, "shape": (self.n, self.k)})
                    for start in range(0, self.n, block):
                        out.write(np.ascontiguousarray(self.rows(name, start, min(start + block, self.n))).tobytes())
            for key, value in small.items():
                with zf.open(f"{key}.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, np.asanyarray(value), allow_pickle=False)

    def close(self) -> None:
        for f in self._files.values():
            f.close()

    def __enter__(self) -> ColumnStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
