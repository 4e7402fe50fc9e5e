"""Keep TensorFlow's start-up chatter off the terminal of a command-line user.

TensorFlow 2.16+ logs from C++ through absl before absl is initialised, so ``TF_CPP_MIN_LOG_LEVEL``
no longer reaches those lines (oneDNN notices, "Could not find cuda drivers", and on a machine
without a GPU ``E0000 ... failed call to cuInit``, which reads as a failure). Only the file
descriptor can silence them: while a command runs, descriptor 2 points at ``/dev/null`` and
Python's ``sys.stderr`` writes to a duplicate of the real one, so chromseq's own messages,
progress bars and errors still show.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Silence TensorFlow's C++ logs and its Python logs and warnings for the duration.

    Python-level writes to ``sys.stderr`` still reach the terminal. Restores everything on exit.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl", "h5py")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    saved_fd = _redirect_fd2()
    saved_stderr = sys.stderr
    if saved_fd is not None and _writes_to_fd2(sys.stderr):
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved_fd), "wb", buffering=0),
                                      encoding=getattr(saved_stderr, "encoding", None) or "utf-8",
                                      errors="backslashreplace", line_buffering=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(keras|tensorflow|tf_keras|absl)(\.|$)")
            yield
    finally:
        if sys.stderr is not saved_stderr:
            try:
                sys.stderr.flush()
                sys.stderr.close()
            except (OSError, ValueError):
                pass
            sys.stderr = saved_stderr
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _redirect_fd2() -> int | None:
    """Point descriptor 2 at /dev/null; return a duplicate of the old one (None where impossible)."""
    try:
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    try:
        saved = os.dup(2)
    except OSError:
        return None
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
    finally:
        os.close(null)
    return saved


def _writes_to_fd2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False  # captured (click's test runner, a notebook): it never went to descriptor 2
