"""Feature-map pictures (input barcodes, 919-feature maps, prediction-vs-truth), readable at 919 features and thousands of samples.

Input barcodes (bases as colors), label / prediction / difference maps (samples x features,
class boundaries marked) and the evolution of the predicted map over epochs. Each ``plot_*``
returns its Figure, draws into ``ax=``/``axes=`` when given and writes ``path`` when given.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from chromseq.plots.style import (
    BASE_COLORS,
    class_blocks,
    class_color,
    finish,
    several_axes,
    single_axes,
)


def _subsample(n: int, max_rows: int, seed: int = 0) -> np.ndarray:
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))


def _bin_columns(values: np.ndarray, max_columns: int) -> tuple[np.ndarray, int]:
    """Means over blocks of adjacent columns, so that at most ``max_columns`` remain; returns them
    and the block size. A map with more cells than the picture has pixels draws one cell out of
    several per pixel: noise that reads as detail and fills megabytes of PNG."""
    k = values.shape[1]
    size = max(1, math.ceil(k / max_columns))
    if size == 1:
        return values, 1
    padded = np.pad(values.astype(np.float64), ((0, 0), (0, (-k) % size)), constant_values=np.nan)
    return np.nanmean(padded.reshape(len(values), -1, size), axis=2), size


def _spread(rows: np.ndarray, at_most: int) -> np.ndarray:
    """At most ``at_most`` of ``rows``, evenly spaced (all when there are fewer)."""
    if len(rows) <= at_most:
        return rows
    return rows[np.linspace(0, len(rows) - 1, at_most).round().astype(int)]


def plot_barcodes(x: np.ndarray, alphabet: str, path: str | os.PathLike | None = None, *, max_rows: int = 200,
                  title: str = "Input sequences", ax=None):
    """One row per sequence, one colored cell per base (N gray) -> Figure.

    ``x``: one-hot (N, L, 4) with channels in ``alphabet`` order (the data's own, e.g. "AGCT" for
    DeepSEA files); the legend names the bases. At most ``max_rows`` sequences (a seeded sample).
    ``ax``: the Axes to draw into; ``path``: also write the picture there.
    """
    rows = _subsample(len(x), max_rows)
    xs = x[rows]
    idx = np.where(xs.sum(-1) > 0, xs.argmax(-1), 4)
    colors = [BASE_COLORS[b] for b in alphabet] + [BASE_COLORS["N"]]
    fig, ax, created = single_axes(ax, (12, max(3, min(9, len(rows) * 0.05 + 2))))
    ax.imshow(idx, aspect="auto", interpolation="nearest", cmap=ListedColormap(colors), vmin=0, vmax=4)
    ax.set_xlabel("position in the window (bp)")
    ax.set_ylabel(f"sequence ({len(rows)} of {len(x)})")
    ax.set_title(title)
    ax.legend(handles=[Patch(color=c, label=b) for b, c in zip(alphabet + "N", colors)], loc="upper left",
              bbox_to_anchor=(1.01, 1), title=f"base ({alphabet} order)")
    return finish(fig, path, tight=created)


def _mark_classes(ax, classes: list[str] | None) -> None:
    if not classes:
        return
    blocks = class_blocks(classes)
    for label, start, stop in blocks:
        if start > 0:
            ax.axvline(start - 0.5, color="black", lw=1)
        ax.annotate(label, xy=((start + stop) / 2 / len(classes), 1.01), xycoords="axes fraction",
                    ha="center", va="bottom", fontsize=9, color=class_color(label))


def plot_feature_map(values: np.ndarray, path: str | os.PathLike | None = None, *, classes: list[str] | None = None,
                     kind: str = "labels", title: str = "", max_rows: int = 1000, rows: np.ndarray | None = None,
                     shown_rows: int = 100, max_columns: int = 160, ax=None):
    """Samples x features (N, K) as an image -> Figure: ``kind`` 'labels' (binary), 'pred' (0-1) or
    'diff' (-1..1). ``classes``: K class labels (boundaries marked); ``rows``: the samples to choose
    from (default: a seeded sample of at most ``max_rows``), of which ``shown_rows``, evenly spread,
    are drawn; more than ``max_columns`` features are drawn as means over blocks of adjacent
    features (labels then as the fraction present), so the picture stays small (~100 kB at 919
    features). ``ax``: the Axes to draw into; ``path``: also write the picture there.
    """
    rows = _subsample(len(values), max_rows) if rows is None else rows
    rows = _spread(np.asarray(rows), shown_rows)
    v, block = _bin_columns(values[rows], max_columns)
    per = f" (mean over blocks of {block} features)" if block > 1 else ""
    cmap, vmin, vmax, label = {
        "labels": (ListedColormap(["white", "black"]) if block == 1 else "Greys", 0, 1,
                   "label (1 = feature present)" if block == 1 else "fraction of features present"),
        "pred": ("viridis", 0, 1, "predicted probability" + per),
        "diff": ("RdBu_r", -1, 1, "prediction - truth" + per),
    }[kind]
    fig, ax, created = single_axes(ax, (12, 6))
    k = values.shape[1]
    # extent in feature units, so class boundaries and ticks stay those of the K features
    im = ax.imshow(v, aspect="auto", interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax, rasterized=True,
                   extent=(-0.5, v.shape[1] * block - 0.5, len(rows) - 0.5, -0.5))
    ax.set_xlim(-0.5, k - 0.5)
    _mark_classes(ax, classes)
    ax.set_xlabel(f"feature (column, {k} in all{'; blocks of ' + str(block) if block > 1 else ''})")
    ax.set_ylabel(f"sample ({len(rows)} of {len(values)})")
    ax.set_title(title, pad=18)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cbar.set_label(label)
    if kind == "labels" and block == 1:
        cbar.set_ticks([0, 1])
    return finish(fig, path, tight=created)


def plot_map_evolution(snapshots: list[dict], path: str | os.PathLike | None = None, *,
                       classes: list[str] | None = None, max_panels: int = 6, shown_rows: int = 60,
                       max_columns: int = 50, axes=None):
    """Predicted maps on the same validation samples after successive epochs, truth last -> Figure.

    ``snapshots``: dicts with ``epoch``, ``y_pred`` (n, K) and ``y_true`` (n, K), oldest first; at
    most ``max_panels`` epochs are shown. ``axes``: one Axes per panel (``min(max_panels,
    len(snapshots)) + 1``, fewer when epochs repeat); ``path``: also write the picture there.
    At most ``shown_rows`` samples (evenly spread) and ``max_columns`` columns per panel (means over
    blocks of adjacent features beyond that; truth as the fraction present). No snapshots: nothing is drawn or written and None is returned.
    """
    if not snapshots:
        return None
    pick = np.unique(np.linspace(0, len(snapshots) - 1, min(max_panels, len(snapshots))).round().astype(int))
    panels = [(f"epoch {int(snapshots[i]['epoch'])}", snapshots[i]["y_pred"]) for i in pick]
    panels.append(("truth", snapshots[-1]["y_true"]))
    fig, axes, created = several_axes(axes, len(panels), (3 * len(panels) + 1, 5), nrows=1, ncols=len(panels),
                                      sharey=True)
    shown = _spread(np.arange(len(panels[0][1])), shown_rows)
    for ax, (label, values) in zip(axes, panels):
        v, block = _bin_columns(np.asarray(values)[shown], max_columns)
        im = ax.imshow(v, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1, rasterized=True,
                       extent=(-0.5, v.shape[1] * block - 0.5, len(shown) - 0.5, -0.5))
        ax.set_xlim(-0.5, values.shape[1] - 0.5)
        if classes:
            for _, start, _ in class_blocks(classes)[1:]:
                ax.axvline(start - 0.5, color="white", lw=0.8)
        ax.set_title(label)
        ax.set_xlabel("feature" + (f" (blocks of {block})" if block > 1 else ""))
    axes[0].set_ylabel(f"validation sample ({len(shown)} of {len(panels[0][1])})")
    fig.colorbar(im, ax=axes, fraction=0.02, pad=0.01).set_label(
        "predicted probability" + (" (block mean; truth: fraction present)" if block > 1 else ""))
    if created:
        fig.suptitle("How the predicted feature map evolves during training (same samples each epoch)")
    return finish(fig, path, tight=False)
