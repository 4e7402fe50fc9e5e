"""DeepSEA .mat files (v7.3 HDF5 and v5), plain HDF5 and .npz: detection, block reading, writing.

Layouts of the DeepSEA bundle, as h5py / scipy return them:

============  ======================  ==================================  ===========================
file          container               x                                   y
============  ======================  ==================================  ===========================
train.mat     MATLAB v7.3 (HDF5,      ``trainxdata`` (L, 4, N): samples   ``traindata`` (K, N)
              512-byte MATLAB header) last
valid.mat     MATLAB v5               ``validxdata`` (N, 4, L)            ``validdata`` (N, K)
other .h5     HDF5                    (N, L, 4) or (N, 4, L)              (N, K)
store .h5     HDF5 (``data convert``)  ``x`` (N, ceil(4L/8)) packed bits      ``y`` (N, ceil(K/8)) bits
.npz          NumPy                   (N, L, 4) or (N, 4, L)              (N, K)
============  ======================  ==================================  ===========================

``SeqDataset.read(start, stop)`` always returns x as (n, L, 4) uint8 in the file's alphabet
(AGCT for DeepSEA files) and y as (n, K) uint8, reading one contiguous block, so train.mat
(17.6 GB) is never loaded whole.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq.data.encoding import DEEPSEA_ALPHABET, check_alphabet, unpack_onehot
from chromseq.errors import ChromseqError
from chromseq.outputs import H5Output

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
SPLITS = ("train", "valid", "test")
_X_KEYS = ("x", "X", "xdata", "inputs", "sequences", "seqs", "onehot")
_Y_KEYS = ("y", "Y", "labels", "targets", "data")


def detect_container(path: str | os.PathLike) -> str:
    """'mat-v7.3', 'hdf5', 'mat-v5' or 'npz', from the file's first bytes."""
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    if path.is_dir():
        raise ChromseqError(f"{path}: is a directory, expected a .mat/.h5/.npz file")
    with open(path, "rb") as fh:
        head = fh.read(520)
    if len(head) < 8:
        raise ChromseqError(f"{path}: file is empty or truncated ({len(head)} bytes)")
    if head[:8] == HDF5_SIGNATURE:
        return "hdf5"
    if head[512:520] == HDF5_SIGNATURE:
        return "mat-v7.3"
    if head[:4] == b"PK\x03\x04":
        return "npz"
    if head[:6] == b"MATLAB" or (len(head) >= 128 and head[126:128] in (b"IM", b"MI")):
        if b"7.3" in head[:20]:
            raise ChromseqError(f"{path}: MATLAB 7.3 header but no HDF5 data after it; file truncated?")
        return "mat-v5"
    raise ChromseqError(f"{path}: not a MATLAB (.mat v5/v7.3), HDF5 or .npz file")


def _pick(keys: list[str], split_suffix: str, generic: tuple[str, ...]) -> str | None:
    for split in SPLITS:
        if f"{split}{split_suffix}" in keys:
            return f"{split}{split_suffix}"
    for name in generic:
        if name in keys:
            return name
    matches = [k for k in keys if k.endswith(split_suffix)]
    return matches[0] if len(matches) == 1 else None


@dataclass
class SeqDataset:
    """A one-hot sequence dataset on disk, read in contiguous blocks.

    Attributes: ``n_samples``, ``seq_len`` (after crop), ``n_features`` (after the subset;
    0 without labels), ``alphabet``, ``container``, ``x_key``, ``y_key``, ``feature_names``.
    """

    path: Path
    container: str
    x_key: str
    y_key: str | None
    x_layout: str  # 'LCN' (sample last), 'NCL', 'NLC' or 'BITS' (packed store)
    y_layout: str | None  # 'KN', 'NK' or 'BITS'
    total_samples: int
    full_len: int
    total_features: int
    alphabet: str = DEEPSEA_ALPHABET
    max_samples: int | None = None
    crop: int | None = None
    features: np.ndarray | None = None
    feature_names: list[str] | None = None
    validate: bool = True
    _handle: object = field(default=None, repr=False)
    _arrays: dict | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return min(self.total_samples, self.max_samples) if self.max_samples else self.total_samples

    @property
    def seq_len(self) -> int:
        return self.crop or self.full_len

    @property
    def n_features(self) -> int:
        return len(self.features) if self.features is not None else self.total_features

    @property
    def has_labels(self) -> bool:
        return self.y_key is not None

    def __len__(self) -> int:
        return self.n_samples

    # -- reading -------------------------------------------------------------------------
    def _source(self, key: str):
        if self._arrays is not None:
            return self._arrays[key]
        return self._handle[key]

    def read(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Samples ``start:stop`` as x (n, L, 4) uint8 and y (n, K) uint8 (None without labels)."""
        stop = self.n_samples if stop is None else min(stop, self.n_samples)
        start = max(0, min(start, stop))
        lo, hi = 0, self.full_len
        if self.crop:
            lo = (self.full_len - self.crop) // 2
            hi = lo + self.crop
        src = self._source(self.x_key)
        try:
            if self.x_layout == "LCN":
                x = np.asarray(src[lo:hi, :, start:stop]).transpose(2, 0, 1)
            elif self.x_layout == "NCL":
                x = np.asarray(src[start:stop, :, lo:hi]).transpose(0, 2, 1)
            elif self.x_layout == "BITS":  # 2 bases per byte: read only the bytes of the crop
                b0, b1 = lo // 2, -(-hi // 2)
                x = unpack_onehot(np.asarray(src[start:stop, b0:b1]), hi - lo, skip=lo - 2 * b0)
            else:
                x = np.asarray(src[start:stop, lo:hi, :])
        except OSError as exc:
            raise ChromseqError(f"{self.path}: cannot read {self.x_key!r} samples {start}-{stop} ({exc}); file truncated?") from exc
        x = np.ascontiguousarray(_to_uint8(x, self.path, self.x_key, offset=start, pos_offset=lo))
        y = None
        if self.y_key is not None:
            ysrc = self._source(self.y_key)
            try:
                if self.y_layout == "BITS":
                    y = np.unpackbits(np.asarray(ysrc[start:stop]), axis=1, count=self.total_features)
                elif self.y_layout == "KN":
                    y = np.asarray(ysrc[:, start:stop]).T
                else:
                    y = np.asarray(ysrc[start:stop])
            except OSError as exc:
                raise ChromseqError(f"{self.path}: cannot read {self.y_key!r} samples {start}-{stop} ({exc})") from exc
            if self.features is not None:
                y = y[:, self.features]
            y = _to_uint8(y, self.path, self.y_key, labels=True, offset=start, columns=self.features)
        if self.validate:
            _check_one_hot(x, self.path, self.x_key, start, lo)
        return x, None if y is None else np.ascontiguousarray(y)

    def load(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The whole (max_samples-limited) dataset in memory; for valid/test-sized files."""
        return self.read(0, self.n_samples)

    def iter_blocks(self, block_size: int = 4096):
        """Yield ``(start, x, y)`` for consecutive blocks of ``block_size`` samples."""
        for start in range(0, self.n_samples, block_size):
            x, y = self.read(start, start + block_size)
            yield start, x, y

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> SeqDataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _to_uint8(a: np.ndarray, path: Path, key: str, labels: bool = False, offset: int = 0, pos_offset: int = 0,
              columns: np.ndarray | None = None) -> np.ndarray:
    """``a`` as uint8 0/1, or a ChromseqError naming the file, key, sample and position of the first bad value.

    Vectorised (one comparison pass; the search for the culprit runs only on failure), so every
    block read while streaming is checked.
    """
    if a.dtype == bool:
        return a.astype(np.uint8)
    if a.dtype.kind not in "iuf":
        raise ChromseqError(f"{path}: {key!r} has dtype {a.dtype}, expected numbers (uint8 0/1)")
    if a.dtype == np.uint8:
        if not a.size or a.max() <= 1:
            return a
        bad = a > 1
    else:
        ok = (a == 0) | (a == 1)  # NaN fails both
        if ok.all():
            return a.astype(np.uint8)
        bad = ~ok
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    value = a[where].item()
    if labels:
        column = int(columns[where[1]]) if columns is not None else where[1]
        raise ChromseqError(f"{path}: {key!r} sample {offset + where[0]} feature column {column} holds {value!r}; "
                            "labels must be 0 or 1")
    raise ChromseqError(f"{path}: {key!r} sample {offset + where[0]} position {pos_offset + where[1]} holds {value!r}; "
                        "one-hot values must be 0 or 1")


def _check_one_hot(x: np.ndarray, path: Path, key: str, offset: int, pos_offset: int = 0) -> None:
    """At most one base set per position (all zeros = N): x (n, L, 4) uint8 0/1, C-contiguous.

    Each position's 4 bytes read as one uint32 with at most one bit set (v & (v - 1) == 0):
    ~3 ms per 4096 x 1000-bp block, against ~60 ms for a sum over the base axis.
    """
    if not x.size:
        return
    v = x.view(np.uint32) if x.flags.c_contiguous else np.ascontiguousarray(x).view(np.uint32)
    bad = (v & (v - np.uint32(1))) != 0
    if bad.any():
        n, pos, _ = np.argwhere(bad)[0]
        raise ChromseqError(f"{path}: {key!r} sample {offset + n} position {pos_offset + pos} has "
                            f"{int(x[n, pos].sum())} bases set; one-hot rows must hold one 1 (or all 0 for N)")


def _orient_x(shape: tuple, path: Path, key: str, mat73: bool) -> tuple[str, int, int]:
    """Layout, number of samples and length of an x array of the given shape."""
    if len(shape) != 3 or 4 not in shape:
        raise ChromseqError(f"{path}: {key!r} has shape {shape}; expected a 3-D one-hot array with an axis of 4 "
                            "((L, 4, N) in v7.3 train.mat, (N, 4, L) or (N, L, 4) otherwise)")
    if mat73 and shape[1] == 4:
        layout = "LCN", shape[2], shape[0]
    elif shape[1] == 4:
        layout = "NCL", shape[0], shape[2]
    elif shape[2] == 4:
        layout = "NLC", shape[0], shape[1]
    else:
        raise ChromseqError(f"{path}: {key!r} has shape {shape}; the base axis (4) must be the 2nd or 3rd")
    if layout[2] == 4:  # (4, 4, N), (N, 4, 4): positions and bases cannot be told apart
        raise ChromseqError(f"{path}: {key!r} has shape {shape}: sequences of length 4 leave two axes of 4, so "
                            "which one holds the bases (A/G/C/T) cannot be decided from the shape; "
                            "store the sequences with a length other than 4")
    return layout


def open_dataset(
    path: str | os.PathLike,
    *,
    max_samples: int | None = None,
    crop: int | None = None,
    features: np.ndarray | list[int] | str | None = None,
    alphabet: str | None = None,
    validate: bool = True,
) -> SeqDataset:
    """Open a DeepSEA .mat (v7.3 or v5), .h5/.hdf5 or .npz dataset for block reading.

    ``features`` selects label columns by index list or by a name pattern (needs a feature
    table: ``features.tsv`` beside the file). ``alphabet`` defaults to the file's own
    ``alphabet`` attribute/key, else AGCT (DeepSEA).
    """
    path = Path(path)
    container = detect_container(path)
    handle, arrays, attrs_alphabet = None, None, None
    if container in ("hdf5", "mat-v7.3"):
        import h5py

        try:
            handle = h5py.File(path, "r")
        except OSError as exc:
            raise ChromseqError(f"{path}: cannot open HDF5 ({exc}); file truncated or damaged?") from exc
        keys = [k for k in handle.keys() if isinstance(handle[k], h5py.Dataset)]
        shapes = {k: handle[k].shape for k in keys}
        attrs_alphabet = handle.attrs.get("alphabet")
        if isinstance(attrs_alphabet, bytes):
            attrs_alphabet = attrs_alphabet.decode()
    elif container == "mat-v5":
        import scipy.io

        from chromseq.data.matv5 import memmap_mat_v5

        try:
            arrays = memmap_mat_v5(path)  # uncompressed: mapped, read block by block
            if arrays is None:
                arrays = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
        except ChromseqError:
            raise
        except Exception as exc:  # scipy raises ValueError/TypeError/EOFError on damaged files
            raise ChromseqError(f"{path}: cannot read MATLAB v5 file ({type(exc).__name__}: {exc}); truncated?") from exc
        keys, shapes = list(arrays), {k: v.shape for k, v in arrays.items()}
    else:
        try:
            npz = np.load(path, allow_pickle=False)
            arrays = {k: npz[k] for k in npz.files}
        except Exception as exc:
            raise ChromseqError(f"{path}: cannot read .npz ({exc})") from exc
        keys, shapes = list(arrays), {k: v.shape for k, v in arrays.items()}
        if "alphabet" in arrays:
            attrs_alphabet = str(arrays.pop("alphabet"))
            keys.remove("alphabet")

    x_key = _pick(keys, "xdata", _X_KEYS)
    if x_key is None:
        found = ", ".join(f"{k} {shapes[k]}" for k in keys) or "none"
        raise ChromseqError(f"{path}: no sequence array found (expected trainxdata/validxdata/testxdata or x); keys found: {found}")
    y_key = None
    base = x_key[: -len("xdata")] if x_key.endswith("xdata") else None
    if base is not None and f"{base}data" in keys:
        y_key = f"{base}data"
    elif base is None:
        y_key = _pick([k for k in keys if k != x_key], "data", _Y_KEYS)
    packed = handle is not None and "packed_shape" in handle[x_key].attrs
    if packed:  # a ``chromseq data convert`` store
        layout, n, full_len = "BITS", shapes[x_key][0], int(handle[x_key].attrs["packed_shape"][0])
        if len(shapes[x_key]) != 2 or shapes[x_key][1] != -(-4 * full_len // 8):
            raise ChromseqError(f"{path}: {x_key!r} has shape {shapes[x_key]}; a packed store of {full_len}-bp "
                                f"sequences needs (N, {-(-4 * full_len // 8)})")
    else:
        layout, n, full_len = _orient_x(shapes[x_key], path, x_key, container == "mat-v7.3")
    y_layout, k = None, 0
    if y_key is not None and handle is not None and "packed_features" in handle[y_key].attrs:
        k = int(handle[y_key].attrs["packed_features"])
        y_layout = "BITS"
        if shapes[y_key] != (n, -(-k // 8)):
            raise ChromseqError(f"{path}: {y_key!r} has shape {shapes[y_key]}; {k} packed labels of {n} samples "
                                f"need ({n}, {-(-k // 8)})")
    elif y_key is not None:
        yshape = shapes[y_key]
        if len(yshape) == 1 and yshape[0] == n:
            y_layout, k = "NK", 1
            if arrays is not None:
                arrays[y_key] = arrays[y_key].reshape(-1, 1)
        elif len(yshape) == 2 and layout == "LCN" and yshape[1] == n:
            y_layout, k = "KN", yshape[0]
        elif len(yshape) == 2 and yshape[0] == n:
            y_layout, k = "NK", yshape[1]
        elif len(yshape) == 2 and yshape[1] == n:
            y_layout, k = "KN", yshape[0]
        else:
            expected = f"({n}, K)" if layout != "LCN" else f"(K, {n})"
            raise ChromseqError(f"{path}: {y_key!r} has shape {yshape}; expected {expected} to match {n} samples in {x_key!r}")
    if crop is not None and crop > full_len:
        raise ChromseqError(f"crop {crop} is longer than the sequences in {path} ({full_len} bp)")
    if crop is not None and crop <= 0:
        raise ChromseqError(f"crop must be positive, got {crop}")
    ds = SeqDataset(path=path, container=container, x_key=x_key, y_key=y_key, x_layout=layout,
                    y_layout=y_layout, total_samples=n, full_len=full_len, total_features=k,
                    alphabet=check_alphabet(alphabet or attrs_alphabet or DEEPSEA_ALPHABET),
                    max_samples=max_samples, crop=crop, validate=validate, _handle=handle, _arrays=arrays)
    table_path = path.with_name("features.tsv")
    if table_path.exists() and k:
        from chromseq.data.annotations import FeatureTable

        try:
            table = FeatureTable.read(table_path, n_features=k)
            ds.feature_names = list(table.names)
        except ChromseqError:
            table = None
    else:
        table = None
    if features is not None and (not isinstance(features, str) or features):
        if isinstance(features, str) and table is None:
            raise ChromseqError(f"feature pattern {features!r} needs a feature table (features.tsv) beside {path}")
        if isinstance(features, str):
            idx = table.select(features)
        else:
            idx = np.asarray(features, dtype=np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= k):
                raise ChromseqError(f"feature index out of range 0..{k - 1} for {path}")
        ds.features = np.asarray(idx, dtype=np.int64)
        if ds.feature_names is not None:
            ds.feature_names = [ds.feature_names[i] for i in ds.features]
    return ds


# -- writers -----------------------------------------------------------------------------------

def matlab_header(description: str = "MATLAB 7.3 MAT-file") -> bytes:
    """The 512-byte userblock MATLAB puts before the HDF5 data of a v7.3 file."""
    text = (f"{description}, Platform: GLNXA64, Created on: {time.strftime('%a %b %d %H:%M:%S %Y')} "
            "HDF5 schema 1.00 .").encode()
    header = bytearray(b" " * 116) + bytearray(8)  # text (116) + subsystem data offset (8)
    header[: len(text)] = text[:116]
    header += b"\x00\x02" + b"IM"  # version 0x0200, endian indicator
    return bytes(header) + bytes(512 - 128)


class MatV73Writer:
    """Stream samples into a DeepSEA-layout v7.3 .mat (HDF5, sample axis last).

    >>> with MatV73Writer("train.mat", seq_len=1000, n_features=919) as w:   # doctest: +SKIP
    ...     w.append(x_block, y_block)      # x (n, L, 4), y (n, K) uint8
    """

    def __init__(self, path: str | os.PathLike, seq_len: int, n_features: int, split: str = "train",
                 alphabet: str = DEEPSEA_ALPHABET, chunk_samples: int = 256, compression: str | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seq_len, self.n_features, self.n = seq_len, n_features, 0
        alphabet = check_alphabet(alphabet)
        # a temporary file renamed into place by close(); a failed write (full disk) never crashes HDF5
        self._out = H5Output(self.path, userblock_size=512, libver="earliest")
        self._file = self._out.file
        self._file.attrs["alphabet"] = alphabet
        self._x = self._file.create_dataset(
            f"{split}xdata", shape=(seq_len, 4, 0), maxshape=(seq_len, 4, None), dtype=np.uint8,
            chunks=(seq_len, 4, chunk_samples), compression=compression)
        self._y = self._file.create_dataset(
            f"{split}data", shape=(n_features, 0), maxshape=(n_features, None), dtype=np.uint8,
            chunks=(n_features, chunk_samples), compression=compression)
        for ds in (self._x, self._y):
            ds.attrs["MATLAB_class"] = np.bytes_(b"uint8")

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        x, y = np.asarray(x, np.uint8), np.asarray(y, np.uint8)
        if x.ndim != 3 or x.shape[1:] != (self.seq_len, 4):
            raise ChromseqError(f"{self.path}: block of shape {x.shape}, expected (n, {self.seq_len}, 4)")
        if y.shape != (len(x), self.n_features):
            raise ChromseqError(f"{self.path}: labels of shape {y.shape}, expected ({len(x)}, {self.n_features})")
        n0, n1 = self.n, self.n + len(x)
        self._x.resize(n1, axis=2)
        self._y.resize(n1, axis=1)
        self._x[:, :, n0:n1] = x.transpose(1, 2, 0)
        self._y[:, n0:n1] = y.T
        self._out.check()
        self.n = n1

    def close(self) -> None:
        if self._file is None:
            return
        self._file = None

        def header(tmp: Path) -> None:
            with open(tmp, "r+b") as fh:
                fh.write(matlab_header())

        self._out.commit(finish=header)

    def abort(self) -> None:
        self._file = None
        self._out.abort()

    def __enter__(self) -> MatV73Writer:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_mat_v73(path: str | os.PathLike, x: np.ndarray, y: np.ndarray, split: str = "train",
                  alphabet: str = DEEPSEA_ALPHABET, block: int = 8192) -> None:
    """Write x (N, L, 4) and y (N, K) as a DeepSEA train.mat-style v7.3 file."""
    with MatV73Writer(path, x.shape[1], y.shape[1], split=split, alphabet=alphabet) as writer:
        for start in range(0, len(x), block):
            writer.append(x[start : start + block], y[start : start + block])


def write_mat_v5(path: str | os.PathLike, x: np.ndarray, y: np.ndarray, split: str = "valid",
                 block: int = 16384) -> None:
    """Write x (N, L, 4) and y (N, K) as a DeepSEA valid/test.mat-style MATLAB v5 file.

    Keys ``<split>xdata`` (N, 4, L) and ``<split>data`` (N, K), uint8, uncompressed (so that
    readers can map it). MATLAB v5 caps a variable at 2 GB; larger splits belong in v7.3
    (``write_mat_v73``). To write a split larger than memory, use ``MatV5Writer`` directly.
    """
    from chromseq.data.matv5 import MatV5Writer

    x, y = np.asarray(x, np.uint8), np.asarray(y, np.uint8)
    with MatV5Writer(path, len(x), x.shape[1], y.shape[1], split=split) as writer:
        for start in range(0, len(x), block):
            writer.append(x[start : start + block], y[start : start + block])
