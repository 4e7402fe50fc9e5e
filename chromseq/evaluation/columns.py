"""Predictions and labels of a whole dataset kept on disk, feature by feature.

Exact per-feature AUROC needs every sample's score for that feature, but not every feature at
once: blocks of predictions are written feature-major to two temporary files as they arrive,
and each feature's column is read back alone. Evaluating the 455,024 x 919 DeepSEA test set
then holds one block and one column (a few MB) instead of 2.1 GB of scores and labels.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


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
            f, dtype = self._files[name], self._dtypes[name]
            rows = np.ascontiguousarray(np.asarray(block, dtype).T)  # (K, m): one contiguous run per feature
            for j in range(self.k):
                f.seek((j * self.n + start) * dtype.itemsize)
                f.write(rows[j].tobytes())
        self.filled += m

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Labels (N,) uint8 and scores (N,) float32 of feature ``j``."""
        return self._read("label", j), self._read("score", j)

    def _read(self, name: str, j: int) -> np.ndarray:
        f, dtype = self._files[name], self._dtypes[name]
        f.flush()
        f.seek(j * self.n * dtype.itemsize)
        return np.fromfile(f, dtype, count=self.n)

    def rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` of ``score`` or ``label`` as (n, K)."""
        f, dtype = self._files[name], self._dtypes[name]
        f.flush()
        out = np.empty((self.k, stop - start), dtype)
        for j in range(self.k):
            f.seek((j * self.n + start) * dtype.itemsize)
            out[j] = np.fromfile(f, dtype, count=stop - start)
        return out.T

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
