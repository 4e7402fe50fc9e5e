"""Per-variant figures: the feature profile ref vs alt and the ISM heatmap around the variant.

``plot_variant`` returns its Figure, draws into ``axes=`` when given and writes ``path`` when given.
"""

from __future__ import annotations

import os

import numpy as np

from chromseq.plots.style import BASE_COLORS, finish, several_axes


def plot_variant(label: str, p_ref: np.ndarray, p_alt: np.ndarray, feature_names: list[str], ism: np.ndarray,
                 window: str, alphabet: str, feature: int, path: str | os.PathLike | None = None, flank: int = 20,
                 *, axes=None):
    """Top: P(ref) and P(alt) (K,) for every feature. Bottom: ISM of ``feature`` around the variant -> Figure.

    ``ism`` is (2 * flank + 1, 4), columns in ``alphabet`` order (the model's): score change of each
    base at each position around the center of ``window`` (the reference sequence, a string).
    ``axes``: two Axes (profile, ISM); ``path``: also write the picture there.
    """
    fig, (ax1, ax2), created = several_axes(axes, 2, (12, 7), nrows=2, ncols=1,
                                            gridspec_kw={"height_ratios": [1.2, 1]})
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
    return finish(fig, path, tight=created)
