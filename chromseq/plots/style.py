"""Shared plot style: one color per base (whatever the alphabet order), one per feature class.

Every plotting function in ``chromseq.plots`` follows one rule: it returns the matplotlib
``Figure``; it draws into ``ax=`` (or ``axes=`` for several panels) when given, else into a new
``Figure`` that pyplot does not know about (nothing is left open in pyplot, nothing needs
closing, and the backend is not changed); when ``path`` is given it also writes the picture
there atomically (``save_figure``). In a notebook the returned Figure displays itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from chromseq.errors import ChromseqError

BASE_COLORS = {"A": "#2ca02c", "C": "#1f77b4", "G": "#ff9f0e", "T": "#d62728", "N": "#bbbbbb"}
CLASS_COLORS = {"DNase": "#4c72b0", "TF": "#55a868", "histone": "#c44e52", "all": "#8172b2"}
DPI = 110


def class_color(label: str) -> str:
    return CLASS_COLORS.get(label, "#8172b2")


def class_blocks(classes: list[str]) -> list[tuple[str, int, int]]:
    """Contiguous runs of the same class: (label, start, stop)."""
    blocks = []
    start = 0
    for i in range(1, len(classes) + 1):
        if i == len(classes) or classes[i] != classes[start]:
            blocks.append((classes[start], start, i))
            start = i
    return blocks


def save_figure(fig, path) -> None:
    """``fig.savefig(path)`` through a temporary file renamed into place: never half a picture."""
    from pathlib import Path

    from chromseq.outputs import atomic_output

    path = Path(path)
    fmt = path.suffix[1:] or matplotlib.rcParams["savefig.format"]
    if not path.suffix:  # as savefig does
        path = path.with_name(f"{path.name}.{fmt}")
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=fmt)


def single_axes(ax, figsize: tuple[float, float]):
    """(figure, axes, created): ``ax``'s figure, or a new pyplot-free Figure with one Axes."""
    if ax is not None:
        return ax.figure, ax, False
    fig = Figure(figsize=figsize, dpi=DPI)
    return fig, fig.subplots(), True


def several_axes(axes: Sequence | None, n: int, figsize: tuple[float, float], **subplots_kw):
    """(figure, list of ``n`` Axes, created): the given ``axes`` (any shape, n in all) or new ones."""
    if axes is not None:
        flat = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(flat) != n:
            raise ChromseqError(f"axes: this plot draws {n} panels, given {len(flat)} Axes")
        return flat[0].figure, flat, False
    fig = Figure(figsize=figsize, dpi=DPI)
    return fig, list(np.ravel(np.asarray(fig.subplots(**subplots_kw), dtype=object))), True


def finish(fig, path, *, tight: bool):
    """Lay out a figure this module created (``tight``), write it to ``path`` when given, return it."""
    if tight:
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
