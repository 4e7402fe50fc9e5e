"""Output files: checked before the work starts, and written whole or not at all.

``check_writable(path)`` refuses an output that cannot be written (a read-only or missing
folder, a path under a file) before minutes of work, with the path in the message.

Every file a command writes goes first to a temporary file in the same folder
(``.NAME.XXXXXX.partial.SUFFIX``, hidden, same suffix so that writers that look at it still
work) and is renamed over ``NAME`` only once it is complete. A failure, a full disk or a
``kill`` half-way leaves an earlier ``NAME`` untouched and never a partial file under the real
name; on an error the temporary file is removed. A full disk (or quota, or a file-size limit)
becomes one line that names the file: ``<path>: no space left on device``.

* ``atomic_output(path)``: yields the temporary path, for writers that take a file name
  (``np.savez``, ``fig.savefig``, ``scipy.io.savemat``, ``model.save``).
* ``atomic_open(path, mode)``: the same, as an open file object.
* ``savez(path, **arrays)``: ``np.savez`` / ``np.savez_compressed`` the same way.
* ``atomic_write_text(path, text)``, ``write_json(path, obj)``: a text or JSON file the same way.
* ``H5Output(path, **h5py_kwargs)``: an HDF5 file. HDF5 does not survive a failed write: once a
  write has failed, closing the file fails again and leaves the library in a state that crashes
  the process later (SIGSEGV on exit). So h5py writes through a Python file object that never
  reports an error to HDF5: the first failed write is recorded, later writes are kept in memory
  so that the file closes cleanly, and ``check()`` / ``commit()`` raise the recorded error.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from chromseq.errors import OS_ERRORS, ChromseqError, note_output

NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def output_error(path: str | os.PathLike, exc: BaseException) -> BaseException:
    """The error to raise for a failed write of ``path``: a one-line ChromseqError for a full disk, else ``exc``."""
    if isinstance(exc, OSError) and exc.errno in NO_SPACE:
        return ChromseqError(f"{path}: {OS_ERRORS[exc.errno]}")
    return exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_path(path: Path) -> Path:
    """Create an empty hidden temporary file beside ``path`` (same suffix) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".partial{path.suffix}")
    except OSError as exc:
        raise output_error(path, exc) from exc
    os.close(fd)
    return Path(name)


def _publish(tmp: Path, path: Path) -> None:
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; results should be readable like any other
    os.replace(tmp, path)


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds, else remove it.

    >>> with atomic_output("out/preds.npz") as tmp:     # doctest: +SKIP
    ...     np.savez(tmp, x=x)
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        _publish(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        error = output_error(path, exc)
        if error is exc:
            raise
        raise error from exc


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[io.IOBase]:
    """``open(path, mode)`` on a temporary file that becomes ``path`` when the block succeeds."""
    with atomic_output(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename, so a crash never leaves half a file."""
    with atomic_open(path, "w") as fh:  # a full disk: "<path>: no space left on device"
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_json(path: str | os.PathLike, obj) -> None:
    """Atomically write ``obj`` as indented JSON (NaN written as null)."""
    atomic_write_text(path, json.dumps(_nan_to_none(obj), indent=2, sort_keys=False) + "\n")


def _nan_to_none(obj):
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return _nan_to_none(obj.item())
    return obj


def savez(path: str | os.PathLike, *, compressed: bool = False, **arrays) -> None:
    """``np.savez(path, **arrays)`` (``np.savez_compressed`` with ``compressed``) through a temporary file."""
    import numpy as np

    path = Path(path)
    if path.suffix != ".npz":  # as np.savez does
        path = path.with_name(path.name + ".npz")
    with atomic_output(path) as tmp:
        (np.savez_compressed if compressed else np.savez)(tmp, **arrays)


class _GuardedFile(io.RawIOBase):
    """A file for h5py's ``fileobj`` driver whose reads and writes never fail towards HDF5.

    The first failed write (or truncate) is kept in ``error``; from then on writes go to an
    in-memory overlay that reads see, so that HDF5 can finish and close the file normally.
    """

    def __init__(self, path: Path):
        super().__init__()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._pos = 0
        self.error: OSError | None = None
        self._overlay: list[tuple[int, bytes]] = []

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _eof(self) -> int:
        size = os.fstat(self._fd).st_size
        return max([size, *(off + len(b) for off, b in self._overlay)])

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos}.get(whence)
        self._pos = (self._eof() if base is None else base) + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buf) -> int:
        mv = memoryview(buf).cast("B")
        n, got = len(mv), 0
        while got < n:
            step = os.preadv(self._fd, [mv[got:]], self._pos + got)
            if step == 0:
                break
            got += step
        if got < n:
            mv[got:] = bytes(n - got)
        for off, data in self._overlay:
            lo, hi = max(off, self._pos), min(off + len(data), self._pos + n)
            if lo < hi:
                mv[lo - self._pos:hi - self._pos] = data[lo - off:hi - off]
        self._pos += n
        return n

    def write(self, buf) -> int:
        mv = memoryview(buf).cast("B")
        n, done = len(mv), 0
        if self.error is None:
            try:
                while done < n:
                    done += os.pwrite(self._fd, mv[done:], self._pos + done)
            except OSError as exc:
                self.error = exc
        if self.error is not None:
            self._overlay.append((self._pos, bytes(mv)))
        self._pos += n
        return n

    def truncate(self, size: int | None = None) -> int:
        size = self._pos if size is None else size
        if self.error is None:
            try:
                os.ftruncate(self._fd, size)
            except OSError as exc:
                self.error = exc
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self._overlay = []
        super().close()


class H5Output:
    """An HDF5 file written under a temporary name, renamed into place by ``commit()``.

    ``file`` is the open ``h5py.File``. Call ``check()`` between blocks of a long write (it raises
    the first failed write, for a full disk as ``<path>: no space left on device``); ``commit()``
    closes, checks and renames; ``abort()`` closes and removes the temporary file. As a context
    manager it yields ``file`` and commits on success, aborts on an exception.

    >>> with H5Output("preds.h5") as f:                 # doctest: +SKIP
    ...     f["predictions"] = matrix
    """

    def __init__(self, path: str | os.PathLike, **kwargs):
        import h5py

        self.path = Path(path)
        self.tmp = temp_path(self.path)
        self._sink = _GuardedFile(self.tmp)
        try:
            self.file = h5py.File(self._sink, "w", **kwargs)
        except BaseException:
            self._sink.close()
            self.tmp.unlink(missing_ok=True)
            raise

    def _raise_failed(self) -> None:
        error = self._sink.error
        self.abort()
        error = OSError(error.errno, error.strerror, str(self.path))
        raise output_error(self.path, error) from self._sink.error

    def check(self) -> None:
        """Raise the first failed write (after removing the temporary file), if any."""
        if self._sink.error is not None:
            self._raise_failed()

    def commit(self, finish: Callable[[Path], None] | None = None) -> None:
        """Close, then (``finish(tmp)`` and) rename into place; a failed write raises instead."""
        try:
            self.file.close()
        except BaseException:
            self.file = None  # never close twice: HDF5 crashes on a second try after a failed close
            self.abort()
            raise
        self.file = None
        self.check()
        self._sink.close()
        try:
            if finish is not None:
                finish(self.tmp)
            _publish(self.tmp, self.path)
        except BaseException as exc:
            self.tmp.unlink(missing_ok=True)
            error = output_error(self.path, exc)
            if error is exc:
                raise
            raise error from exc

    def abort(self) -> None:
        """Close without keeping anything: the temporary file is removed."""
        if self.file is not None:
            file, self.file = self.file, None
            try:
                file.close()
            except Exception:  # noqa: BLE001 - the file is being thrown away
                pass
        self._sink.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
            return
        if self._sink.error is not None and not isinstance(exc, ChromseqError):
            self._raise_failed()  # the failed write is the cause; say that
        self.abort()


def check_writable(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Refuse (ChromseqError) an output that cannot be written: ``path`` is a folder to create or
    fill (``folder=True``) or a file. Creates nothing: probes the nearest existing folder with a
    temporary file. Remembers ``path`` for messages about a later failed write. Returns ``path``.
    """
    path = Path(path)
    note_output(path)
    if folder and path.exists() and not path.is_dir():
        raise ChromseqError(f"{path}: is a file, expected an output folder")
    if not folder and path.is_dir():
        raise ChromseqError(f"{path}: is a folder, expected an output file name")
    probe = path if folder else path.parent
    probe = Path(os.path.abspath(probe))
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ChromseqError(f"{path}: cannot create it: {probe} is a file, not a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".chromseq-write-check-")
    except OSError as exc:
        why = OS_ERRORS.get(exc.errno, (exc.strerror or str(exc)).lower())
        where = "" if probe == Path(os.path.abspath(path if folder else path.parent)) else f" (in {probe})"
        raise ChromseqError(f"{path}: cannot write here{where}: {why}") from exc
    os.close(fd)
    os.unlink(tmp)
    return path
