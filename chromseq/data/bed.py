"""BED / narrowPeak intervals (plain or gzipped), with bad lines reported instead of fatal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chromseq.data.textio import iter_text_lines
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

    A malformed line (too few columns, non-integer or negative coordinates, end <= start) is
    appended to ``problems`` as ``"file:line: reason"`` and skipped; without a ``problems``
    list it raises ``ChromseqError``; so does a file none of whose lines is valid.
    """
    path = Path(path)
    bad, first_bad, good = 0, None, 0
    for line_no, line in iter_text_lines(path, "BED"):
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
                elif end == start:
                    reason = f"zero-length interval (start = end = {start})"
        if reason:
            message = f"{path}:{line_no}: {reason}"
            if problems is None:
                raise ChromseqError(message)
            problems.append(message)
            bad, first_bad = bad + 1, first_bad or message
            continue
        name = cols[3] if len(cols) > 3 else f"{cols[0]}:{start}-{end}"
        good += 1
        yield Interval(cols[0], start, end, name, line_no)
    if bad and not good:  # nothing usable: the wrong file rather than a few bad lines
        raise ChromseqError(f"{path}: not a BED file: none of its {bad} interval line(s) is valid (first: {first_bad})")
