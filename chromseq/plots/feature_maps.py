"""The seed's pictures, readable at 919 features and thousands of samples.

Input barcodes (bases as colors), label / prediction / difference maps (samples x features,
class boundaries marked) and the evolution of the predicted map over epochs.
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from chromseq.plots.style import BASE_COLORS, DPI, class_blocks, class_color, save_figure


def _subsample(n: int, max_rows: int, seed: int = 0) -> np.ndarray:
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))


def plot_barcodes(x: np.ndarray, alphabet: str, path: str | os.PathLike, *, max_rows: int = 200,
                  title: str = "Input sequences") -> None:
    """One row per sequence, one colored cell per base (N gray); legend in the file's alphabet."""
    rows = _subsample(len(x), max_rows)
    xs = x[rows]
    idx = np.where(xs.sum(-1) > 0, xs.argmax(-1), 4)
    colors = [BASE_COLORS[b] for b in alphabet] + [BASE_COLORS["N"]]
    fig, ax = plt.subplots(figsize=(12, max(3, min(9, len(rows) * 0.05 + 2))), dpi=DPI)
    ax.imshow(idx, aspect="auto", interpolation="nearest", cmap=ListedColormap(colors), vmin=0, vmax=4)
    ax.set_xlabel("position in the window (bp)")
    ax.set_ylabel(f"sequence ({len(rows)} of {len(x)})")
    ax.set_title(title)
    ax.legend(handles=[Patch(color=c, label=b) for b, c in zip(alphabet + "N", colors)], loc="upper left",
              bbox_to_anchor=(1.01, 1), title=f"base ({alphabet} order)")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _mark_classes(ax, classes: list[str] | None) -> None:
    if not classes:
        return
    blocks = class_blocks(classes)
    for label, start, stop in blocks:
        if start > 0:
            ax.axvline(start - 0.5, color="black", lw=1)
        ax.annotate(label, xy=((start + stop) / 2 / len(classes), 1.01), xycoords="axes fraction",
                    ha="center", va="bottom", fontsize=9, color=class_color(label))


def plot_feature_map(values: np.ndarray, path: str | os.PathLike, *, classes: list[str] | None = None,
                     kind: str = "labels", title: str = "", max_rows: int = 1000, rows: np.ndarray | None = None) -> None:
    """Samples x features as an image: ``kind`` 'labels' (binary), 'pred' (0-1) or 'diff' (-1..1)."""
    rows = _subsample(len(values), max_rows) if rows is None else rows
    v = values[rows]
    cmap, vmin, vmax, label = {
        "labels": (ListedColormap(["white", "black"]), 0, 1, "label (1 = feature present)"),
        "pred": ("viridis", 0, 1, "predicted probability"),
        "diff": ("RdBu_r", -1, 1, "prediction - truth"),
    }[kind]
    fig, ax = plt.subplots(figsize=(12, 6), dpi=DPI)
    im = ax.imshow(v, aspect="auto", interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax, rasterized=True)
    _mark_classes(ax, classes)
    ax.set_xlabel(f"feature (column, {values.shape[1]} in all)")
    ax.set_ylabel(f"sample ({len(rows)} of {len(values)})")
    ax.set_title(title, pad=18)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    cbar.set_label(label)
    if kind == "labels":
        cbar.set_ticks([0, 1])
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_map_evolution(snapshots: list[dict], path: str | os.PathLike, *, classes: list[str] | None = None,
                       max_panels: int = 6) -> None:
    """Predicted maps on the same validation samples after successive epochs, truth last."""
    if not snapshots:
        return
    pick = np.unique(np.linspace(0, len(snapshots) - 1, min(max_panels, len(snapshots))).round().astype(int))
    panels = [(f"epoch {int(snapshots[i]['epoch'])}", snapshots[i]["y_pred"]) for i in pick]
    panels.append(("truth", snapshots[-1]["y_true"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels) + 1, 5), dpi=DPI, sharey=True)
    for ax, (label, v) in zip(np.atleast_1d(axes), panels):
        im = ax.imshow(v, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1, rasterized=True)
        if classes:
            for _, start, _ in class_blocks(classes)[1:]:
                ax.axvline(start - 0.5, color="white", lw=0.8)
        ax.set_title(label)
        ax.set_xlabel("feature")
    np.atleast_1d(axes)[0].set_ylabel("validation sample")
    fig.colorbar(im, ax=list(np.atleast_1d(axes)), fraction=0.02, pad=0.01).set_label("predicted probability")
    fig.suptitle("How the predicted feature map evolves during training (same samples each epoch)")
    save_figure(fig, path)
    plt.close(fig)
