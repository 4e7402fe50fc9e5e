"""Memory-mapped reading of uncompressed MATLAB v5 files (DeepSEA's valid.mat and test.mat).

An uncompressed v5 variable is one contiguous column-major block after a small header, so it
can be mapped instead of read: the 455,024-sample test.mat (2.2 GB) is then read block by block
like train.mat and never held in memory. Compressed files and non-numeric variables are left to
``scipy.io.loadmat`` (``memmap_mat_v5`` returns None).

Format: MathWorks, "MAT-File Format" (v5): a 128-byte header, then data elements, each an
8-byte tag (type, byte count) or a 4-byte "small element" tag, padded to 8 bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

_MI_MATRIX = 14
# miTYPE -> NumPy dtype of the stored values (MATLAB may store a double array as uint8, say)
_MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_NUMERIC_CLASSES = set(range(6, 16))  # mxDOUBLE .. mxUINT64
_COMPLEX_FLAG = 0x0800


def memmap_mat_v5(path: str | os.PathLike) -> dict[str, np.ndarray | MappedArray] | None:
    """The variables of an uncompressed v5 .mat as :class:`MappedArray` (read per slice), shaped
    as scipy's ``loadmat`` returns them; None when a variable is compressed, complex or not numeric."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(128)
        if len(header) < 128:
            raise ChromseqError(f"{path}: {size} bytes, too short for a MATLAB v5 header; truncated?")
        endian = {b"IM": "<", b"MI": ">"}.get(header[126:128])
        if endian is None:
            return None
        out: dict[str, np.ndarray] = {}
        pos = 128
        while pos < size:
            f.seek(pos)
            tag = f.read(8)
            if len(tag) < 8:
                raise ChromseqError(f"{path}: ends inside a variable header at byte {pos}; truncated?")
            mi_type, nbytes = np.frombuffer(tag, f"{endian}u4")
            if mi_type != _MI_MATRIX:  # compressed (miCOMPRESSED) or not an array
                return None
            end = pos + 8 + int(nbytes)
            if end > size:
                raise ChromseqError(f"{path}: a variable runs to byte {end} but the file has {size}; truncated?")
            f.seek(pos + 8)
            var = _matrix(f.read(min(int(nbytes), 4096)), endian, pos + 8, int(nbytes))
            if var is None:
                return None
            name, shape, dtype, offset = var
            out[name] = np.zeros(shape, dtype) if min(shape, default=1) == 0 else MappedArray(path, dtype, shape, offset)
            pos = end + (-end % 8)
    return out


class MappedArray:
    """A column-major array inside a file, mapped only while a slice of it is copied out.

    Pages of a map that stays open count as the process's memory once touched (reading all of a
    2.2 GB test.mat would leave 2.2 GB resident); mapping per read keeps only the block.
    """

    def __init__(self, path: Path, dtype: np.dtype, shape: tuple[int, ...], offset: int) -> None:
        self.path, self.dtype, self.shape, self.offset = path, dtype, shape, offset
        self.ndim = len(shape)

    def __getitem__(self, key) -> np.ndarray:
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", offset=self.offset, shape=self.shape, order="F")
        block = np.array(mapped[key])
        del mapped  # unmapped here: the copy holds no reference to it
        return block

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[...]
        return whole if dtype is None else whole.astype(dtype)

    def __len__(self) -> int:
        return self.shape[0]


def _elements(buf: bytes, endian: str, base: int):
    """(type, data offset in the file, byte count, data bytes or None) of consecutive sub-elements."""
    at = 0
    while at + 4 <= len(buf):
        first = int(np.frombuffer(buf[at:at + 4], f"{endian}u4")[0])
        if first >> 16:  # small data element: type and count in one word, data in the next 4 bytes
            mi_type, nbytes = first & 0xFFFF, first >> 16
            yield mi_type, base + at + 4, nbytes, buf[at + 4:at + 4 + nbytes]
            at += 8
        else:
            nbytes = int(np.frombuffer(buf[at + 4:at + 8], f"{endian}u4")[0])
            data = buf[at + 8:at + 8 + nbytes] if at + 8 + nbytes <= len(buf) else None
            yield first, base + at + 8, nbytes, data
            at += 8 + nbytes + (-nbytes % 8)


def _matrix(buf: bytes, endian: str, base: int, total: int):
    """(name, shape, stored dtype, file offset of the data) of one miMATRIX element, or None."""
    parts = _elements(buf, endian, base)
    try:
        _, _, _, flags = next(parts)
        _, _, _, dims = next(parts)
        _, _, _, name = next(parts)
        mi_type, offset, nbytes, _ = next(parts)
    except StopIteration:
        return None
    if flags is None or dims is None or name is None:
        return None
    word = int(np.frombuffer(flags[:4], f"{endian}u4")[0])
    if (word & 0xFF) not in _NUMERIC_CLASSES or word & _COMPLEX_FLAG or mi_type not in _MI_DTYPES:
        return None
    shape = tuple(int(d) for d in np.frombuffer(dims, f"{endian}i4"))
    dtype = np.dtype(endian + _MI_DTYPES[mi_type])
    if int(np.prod(shape)) * dtype.itemsize != nbytes or offset + nbytes > base + total:
        return None
    return name.decode("latin-1"), shape, dtype, offset


def write_column_major(f, offset: int, n_rows: int, start: int, block: np.ndarray) -> None:
    """Rows ``start:start + m`` of a column-major (``n_rows``, C) array stored at ``offset`` of the
    open file ``f``, from ``block`` (m, C): one contiguous run per column."""
    itemsize = block.dtype.itemsize
    for j, run in enumerate(np.ascontiguousarray(block.T)):
        f.seek(offset + (j * n_rows + start) * itemsize)
        f.write(run.tobytes())


def read_column_major(f, offset: int, n_rows: int, dtype: np.dtype, start: int, stop: int,
                      columns: range) -> np.ndarray:
    """Rows ``start:stop`` of ``columns`` of such an array, as (stop - start, len(columns))."""
    dtype = np.dtype(dtype)
    f.flush()
    out = np.empty((len(columns), stop - start), dtype)
    for i, j in enumerate(columns):
        f.seek(offset + (j * n_rows + start) * dtype.itemsize)
        out[i] = np.fromfile(f, dtype, count=stop - start)
    return out.T


class MatV5Writer:
    """Write DeepSEA's valid/test.mat layout block by block: MATLAB v5, uncompressed, with
    ``<split>xdata`` (N, 4, L) and ``<split>data`` (N, K) uint8, column-major, N known up front.

    Memory is one block, not the split (SciPy's ``savemat`` needs the whole array and copies it).
    The file appears only when all N samples were written and the block exits cleanly.

    >>> with MatV5Writer("test.mat", n=455024, seq_len=1000, n_features=919, split="test") as w:  # doctest: +SKIP
    ...     w.append(x_block, y_block)      # x (m, L, 4), y (m, K) 0/1
    """

    def __init__(self, path: str | os.PathLike, n: int, seq_len: int, n_features: int, split: str = "valid"):
        self.path, self.n, self.seq_len, self.n_features, self.filled = Path(path), n, seq_len, n_features, 0
        if n * 4 * seq_len >= 2**31:
            raise ChromseqError(f"{self.path}: {n * 4 * seq_len / 1e9:.1f} GB is too large for MATLAB v5; "
                                "write it as v7.3")
        self._writes, self._data_at, at = [(0, _header())], [], 128
        for name, shape in ((f"{split}xdata", (n, 4, seq_len)), (f"{split}data", (n, n_features))):
            head = _matrix_header(name, shape)
            self._writes.append((at, head))
            self._data_at.append(at + len(head))
            size = int(np.prod(shape))
            at += len(head) + size + (-size % 8)
        self._size = at

    def __enter__(self) -> MatV5Writer:
        from chromseq.outputs import atomic_output

        self._ctx = atomic_output(self.path)
        tmp = self._ctx.__enter__()
        try:
            self._file = open(tmp, "r+b")
            self._file.truncate(self._size)  # data and padding read as zeros until written
            for offset, data in self._writes:
                self._file.seek(offset)
                self._file.write(data)
        except BaseException as exc:
            self._ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        """The next samples: x (m, L, 4) and y (m, K), 0/1."""
        x, y = np.asarray(x, np.uint8), np.asarray(y, np.uint8)
        m, start = len(x), self.filled
        if x.shape[1:] != (self.seq_len, 4) or y.shape != (m, self.n_features) or start + m > self.n:
            raise ChromseqError(f"{self.path}: block {x.shape}/{y.shape} does not fit {self.n} samples of "
                                f"({self.seq_len}, 4)/({self.n_features},) at sample {start}")
        x_at, y_at = self._data_at
        # (m, L * 4) in C order puts x[:, l, c] in column c + 4 l: the (N, 4, L) column-major index
        write_column_major(self._file, x_at, self.n, start, x.reshape(m, -1))
        write_column_major(self._file, y_at, self.n, start, y)
        self.filled += m

    def __exit__(self, exc_type, exc, tb):
        own = None  # an error of the writer's own, raised after the temporary file is removed
        try:
            self._file.close()  # a full disk can first show here, flushing the last block
        except OSError as err:
            own = err
        if own is None and self.filled != self.n:
            own = ChromseqError(f"{self.path}: {self.filled} of {self.n} samples written")
        if exc is None and own is not None:
            self._ctx.__exit__(type(own), own, own.__traceback__)  # removes it; a full disk becomes one line
            raise own
        return self._ctx.__exit__(exc_type, exc, tb)


def _header() -> bytes:
    text = b"MATLAB 5.0 MAT-file, written by chromseq"
    return text.ljust(116, b" ") + bytes(8) + np.uint16(0x0100).astype("<u2").tobytes() + b"IM"


def _element(mi_type: int, data: bytes) -> bytes:
    return np.array([mi_type, len(data)], "<u4").tobytes() + data + bytes(-len(data) % 8)


def _matrix_header(name: str, shape: tuple[int, ...]) -> bytes:
    """An miMATRIX element of class uint8 up to the tag of its data (miUINT8, column-major)."""
    size = int(np.prod(shape))
    body = (_element(6, np.array([9, 0], "<u4").tobytes())  # array flags: mxUINT8_CLASS
            + _element(5, np.array(shape, "<i4").tobytes())
            + _element(1, name.encode()))
    data_tag = np.array([2, size], "<u4").tobytes()
    total = len(body) + 8 + size + (-size % 8)
    return np.array([_MI_MATRIX, total], "<u4").tobytes() + body + data_tag
