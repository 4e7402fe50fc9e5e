"""The one exception type that the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager


class ChromseqError(Exception):
    """A problem with the user's input (file, config, option) that deserves a one-line message.

    Raise it with a message that names the file or field and says what was expected;
    the CLI prints ``error: <message>`` and exits with status 2, no traceback
    (``chromseq --debug`` shows it).
    """


def warn(message: str) -> None:
    """Print ``warning: <message>`` on stderr: the input was accepted, but the user should know."""
    import sys

    print(f"warning: {message}", file=sys.stderr, flush=True)


# ChromseqErrors raised inside tf.data generators: TensorFlow re-raises them as its own
# ``UnknownError`` whose text embeds ours; ``unwrap`` finds the original again.
_GENERATOR_ERRORS: list[ChromseqError] = []


def raised_in_generator(exc: ChromseqError) -> ChromseqError:
    """Remember ``exc`` (about to be raised inside a tf.data generator) so ``unwrap`` can recover it."""
    _GENERATOR_ERRORS.append(exc)
    del _GENERATOR_ERRORS[:-8]
    return exc


def unwrap(exc: BaseException) -> BaseException:
    """The ChromseqError that ``exc`` (or an exception it was raised from) stands for, else ``exc``."""
    seen, current = set(), exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ChromseqError):
            return current
        seen.add(id(current))
        text = str(current)
        for err in reversed(_GENERATOR_ERRORS):
            if str(err) and str(err) in text:
                return err
        current = current.__cause__
    return exc


@contextmanager
def reraise_input_errors() -> Iterator[None]:
    """``with reraise_input_errors(): model.fit(...)``: a ChromseqError that TensorFlow wrapped
    (raised while streaming the data) comes out as itself, TensorFlow's error as its cause."""
    try:
        yield
    except ChromseqError:
        raise
    except Exception as exc:
        cause = unwrap(exc)
        if cause is exc:
            raise
        raise cause from exc


# -- full disks and unwritable folders -----------------------------------------------------------

OS_ERRORS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
             errno.EFBIG: "file too large (a file-system or `ulimit -f` limit)",
             errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.EROFS: "permission denied (read-only file system)"}
# the same conditions as TensorFlow and HDF5 word them inside their own exceptions
_OS_TEXTS = {"no space left on device": errno.ENOSPC, "disk quota exceeded": errno.EDQUOT,
             "permission denied": errno.EACCES, "read-only file system": errno.EROFS}
_OUTPUTS: list[str] = []


def note_output(path) -> None:
    """Remember ``path`` as where the running command writes (named when a write fails without a path)."""
    _OUTPUTS.append(str(path))
    del _OUTPUTS[:-4]


def _path_in(text: str) -> str | None:
    m = re.search(r"name = '([^']+)'", text)  # HDF5: "unable to open file: name = '/x/y.h5', errno = 28"
    if m:
        return m.group(1)
    text = re.sub(r"\{\{.*?\}\}", " ", text)  # TensorFlow's "{{function_node .../device:CPU:0}}"
    text = re.sub(r"\[Op:[^\]]*\]", " ", text)
    m = re.search(r"(?:^|[\s'\"(])((?:\.{0,2}/|[\w.\-]+/)[^\s;,'\"()\[\]]*)", text)
    return m.group(1).rstrip(":.") if m else None


def describe_os_error(exc: BaseException) -> str | None:
    """``"<path>: no space left on device"`` / ``"<path>: permission denied"`` for a full disk or an
    unwritable folder, whether Python, HDF5 or TensorFlow raised it; None for anything else."""
    current, seen = exc, set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code, path = None, None
        if isinstance(current, OSError) and current.errno in OS_ERRORS:
            code, path = current.errno, current.filename or _path_in(str(current))
        else:
            text = str(current)
            lowered = text.lower()
            code = next((c for phrase, c in _OS_TEXTS.items() if phrase in lowered), None)
            path = _path_in(text) if code is not None else None
        if code is not None:
            path = path or (_OUTPUTS[-1] if _OUTPUTS else "output")
            return f"{path}: {OS_ERRORS[code]}"
        current = current.__cause__ or current.__context__
    return None
