"""BED / narrowPeak intervals (plain or gzipped), with bad lines reported instead of fatal."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chromseq.errors import ChromseqError


@dataclass(frozen=True)
class Interval:
    """A 0-based half-open interval from line ``line_no`` of a BED file."""

    chrom: str
    start: int
    end: int
    name: str
    line_no: int


def iter_bed(path: str | os.PathLike, problems: list[str] | None = None) -> Iterator[Interval]:
    """Yield intervals of a BED/narrowPeak file; skip header/track/comment lines.

    A malformed line (too few columns, non-integer or negative coordinates, end < start) is
    appended to ``problems`` as ``"file:line: reason"`` and skipped; without a ``problems``
    list it raises ``ChromseqError``.
    """
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rt") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            cols = line.rstrip("\n").split("\t") if "\t" in line else line.split()
            reason = None
            if len(cols) < 3:
                reason = f"expected at least 3 columns (chrom, start, end), found {len(cols)}"
            else:
                try:
                    start, end = int(cols[1]), int(cols[2])
                except ValueError:
                    reason = f"start/end {cols[1]!r}, {cols[2]!r} are not integers"
                else:
                    if start < 0:
                        reason = f"negative start {start}"
                    elif end < start:
                        reason = f"end {end} < start {start}"
            if reason:
                message = f"{path}:{line_no}: {reason}"
                if problems is None:
                    raise ChromseqError(message)
                problems.append(message)
                continue
            name = cols[3] if len(cols) > 3 else f"{cols[0]}:{start}-{end}"
            yield Interval(cols[0], start, end, name, line_no)
