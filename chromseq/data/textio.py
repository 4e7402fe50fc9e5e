"""Text inputs (BED, VCF, FASTA, motif files), plain or gzipped, read line by line with the
failures of a wrong or damaged file turned into one sentence about that file: a binary file
given as text, a truncated or corrupt gzip stream, bytes that are not text."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from chromseq.errors import ChromseqError


def is_gzip(path: str | os.PathLike) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def iter_text_lines(path: str | os.PathLike, what: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_no, line)`` of a plain or gzipped text file; ``what`` names the format in errors.

    A NUL byte (a binary file), bytes that are not UTF-8 text, or a truncated / corrupt gzip
    stream raise ChromseqError naming the file and the line reached.
    """
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    if path.is_dir():
        raise ChromseqError(f"{path}: is a folder, expected a {what} file")
    gz = is_gzip(path)
    line_no = 0
    try:
        with gzip.open(path, "rt") if gz else open(path) as fh:
            for line_no, line in enumerate(fh, 1):
                if "\x00" in line:
                    raise ChromseqError(f"{path}: line {line_no}: binary data (NUL bytes); not a {what} file")
                yield line_no, line
    except UnicodeDecodeError as exc:
        raise ChromseqError(f"{path}: line {line_no + 1}: bytes that are not text ({exc.reason}); "
                            f"not a {what} file{' (after gunzip)' if gz else ''}") from exc
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        where = f" after line {line_no}" if line_no else ""
        raise ChromseqError(f"{path}: corrupt or truncated gzip data{where} ({exc}); "
                            "the file is damaged or was not fully written") from exc
