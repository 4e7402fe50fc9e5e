"""Progress bars for long work: tqdm on stderr, shown only on a terminal unless asked."""

from __future__ import annotations

import sys
from collections.abc import Iterable


def progress_bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
                 show: bool | None = None):
    """A ``tqdm`` bar on stderr; ``show=None`` shows it only when stderr is a terminal (not in logs or pipes).

    ``show=False`` (the callers' ``progress=False``) hides it whatever stderr is.
    """
    from tqdm import tqdm

    visible = sys.stderr.isatty() if show is None else show
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, disable=not visible)
