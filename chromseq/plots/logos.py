"""Sequence logos drawn with matplotlib glyphs (no extra dependency).

``plot_logos`` returns its Figure, draws into ``axes=`` when given and writes ``path`` when given.
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.text import TextPath
from matplotlib.transforms import Affine2D

from chromseq.plots.style import BASE_COLORS, finish, several_axes

_FONT = FontProperties(family="DejaVu Sans", weight="bold")


def _glyph(ax, letter: str, x: float, y: float, height: float) -> None:
    path = TextPath((0, 0), letter, size=1, prop=_FONT)
    box = path.get_extents()
    t = (Affine2D().translate(-box.x0, -box.y0).scale(0.9 / box.width, height / box.height)
         .translate(x - 0.45, y))
    ax.add_patch(PathPatch(t.transform_path(path), color=BASE_COLORS[letter], lw=0))


def draw_logo(ax, matrix: np.ndarray, alphabet: str = "ACGT", *, information: bool = True):
    """Draw ``matrix`` (W, 4), columns in ``alphabet`` order, as a logo into ``ax``; returns ax's Figure.

    Letters are stacked per position; heights = probability x information content (bits), or the
    raw values (negative ones below 0) with ``information=False``.
    """
    m = np.asarray(matrix, float)
    if information:
        p = np.clip(m, 1e-9, 1)
        ic = 2 + (p * np.log2(p)).sum(1)
        heights = m * ic[:, None]
    else:
        heights = m
    for i, row in enumerate(heights):
        pos, neg = 0.0, 0.0
        for j in np.argsort(np.abs(row)):
            h = row[j]
            if abs(h) < 1e-4:
                continue
            if h > 0:
                _glyph(ax, alphabet[j], i, pos, h)
                pos += h
            else:
                neg += h
                _glyph(ax, alphabet[j], i, neg, -h)
    ax.set_xlim(-0.6, len(m) - 0.4)
    top = heights.clip(min=0).sum(1).max() if len(m) else 1
    bottom = heights.clip(max=0).sum(1).min() if len(m) else 0
    ax.set_ylim(min(0, bottom * 1.05), max(2 if information else top * 1.05, 1e-3))
    ax.set_ylabel("bits" if information else "importance")
    return ax.figure


def plot_logos(motifs: list, path: str | os.PathLike | None = None, titles: list[str] | None = None,
               max_logos: int = 24, *, axes=None):
    """One logo per motif (``Motif`` objects, ``pwm`` (W, 4) in ACGT order), stacked vertically -> Figure.

    At most ``max_logos``. ``axes``: one Axes per motif shown; ``path``: also write the picture there.
    """
    motifs = motifs[:max_logos]
    fig, axes, created = several_axes(axes, len(motifs), (7, 1.6 * len(motifs) + 0.5), nrows=len(motifs), ncols=1,
                                      squeeze=False)
    for ax, motif, title in zip(axes, motifs, titles or [m.name for m in motifs]):
        draw_logo(ax, motif.pwm, "ACGT")
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xticks(range(motif.width), [str(i + 1) for i in range(motif.width)], fontsize=6)
    return finish(fig, path, tight=created)
