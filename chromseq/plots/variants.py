"""Per-variant figures: the feature profile ref vs alt and the ISM heatmap around the variant."""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np

from chromseq.plots.style import BASE_COLORS, DPI, save_figure


def plot_variant(label: str, p_ref: np.ndarray, p_alt: np.ndarray, feature_names: list[str], ism: np.ndarray,
                 window: str, alphabet: str, feature: int, path: str | os.PathLike, flank: int = 20) -> None:
    """Top: P(ref) and P(alt) for every feature. Bottom: ISM of ``feature`` around the variant.

    ``ism`` is (2 * flank + 1, 4): score change of each base at each position around the center.
    """
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 7), dpi=DPI, gridspec_kw={"height_ratios": [1.2, 1]})
    k = np.arange(len(p_ref))
    ax1.plot(k, p_ref, lw=0.8, label="reference allele")
    ax1.plot(k, p_alt, lw=0.8, label="alternative allele")
    top = np.argsort(-np.abs(p_alt - p_ref))[:3]
    for j in top:
        ax1.annotate(feature_names[j], (j, max(p_ref[j], p_alt[j])), fontsize=7, rotation=20)
    ax1.set(xlabel="feature", ylabel="predicted probability", title=f"{label}: predicted features, ref vs alt")
    ax1.legend(fontsize=8)
    lim = float(np.abs(ism).max()) or 1.0
    im = ax2.imshow(ism.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    mid = len(window) // 2
    letters = window[mid - flank: mid + flank + 1]
    ax2.set_xticks(range(len(letters)), list(letters), fontsize=7)
    for t, c in zip(ax2.get_xticklabels(), letters):
        t.set_color(BASE_COLORS.get(c, "black"))
    ax2.set_yticks(range(4), list(alphabet))
    ax2.axvline(flank, color="black", lw=1, ls=":")
    ax2.set(xlabel="reference sequence around the variant (dotted: the variant, index L//2)",
            ylabel="substituted base", title=f"In-silico mutagenesis of {feature_names[feature]}")
    fig.colorbar(im, ax=ax2, fraction=0.02).set_label("change in probability")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
