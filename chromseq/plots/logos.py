"""Sequence logos drawn with matplotlib glyphs (no extra dependency)."""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.text import TextPath
from matplotlib.transforms import Affine2D

from chromseq.plots.style import BASE_COLORS, DPI, save_figure

_FONT = FontProperties(family="DejaVu Sans", weight="bold")


def _glyph(ax, letter: str, x: float, y: float, height: float) -> None:
    path = TextPath((0, 0), letter, size=1, prop=_FONT)
    box = path.get_extents()
    t = (Affine2D().translate(-box.x0, -box.y0).scale(0.9 / box.width, height / box.height)
         .translate(x - 0.45, y))
    ax.add_patch(PathPatch(t.transform_path(path), color=BASE_COLORS[letter], lw=0))


def draw_logo(ax, matrix: np.ndarray, alphabet: str = "ACGT", *, information: bool = True) -> None:
    """Stack letters per column; heights = probability x information content (bits) or raw values."""
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


def plot_logos(motifs: list, path: str | os.PathLike, titles: list[str] | None = None, max_logos: int = 24) -> None:
    """One logo per motif (ACGT PWMs), stacked vertically."""
    motifs = motifs[:max_logos]
    fig, axes = plt.subplots(len(motifs), 1, figsize=(7, 1.6 * len(motifs) + 0.5), dpi=DPI, squeeze=False)
    for ax, motif, title in zip(axes[:, 0], motifs, titles or [m.name for m in motifs]):
        draw_logo(ax, motif.pwm, "ACGT")
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xticks(range(motif.width), [str(i + 1) for i in range(motif.width)], fontsize=6)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
