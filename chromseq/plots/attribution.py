"""Figures for saliency, ISM and temporal scores along a sequence.

Each ``plot_*`` returns its Figure, draws into ``ax=``/``axes=`` when given and writes ``path``
when given (see ``chromseq.plots.style``).
"""

from __future__ import annotations

import os

import numpy as np

from chromseq.plots.logos import draw_logo
from chromseq.plots.style import finish, several_axes, single_axes


def _window(importance: np.ndarray, width: int) -> tuple[int, int]:
    """The ``width`` positions around the most important one."""
    center = int(np.argmax(importance))
    start = int(np.clip(center - width // 2, 0, max(0, len(importance) - width)))
    return start, min(len(importance), start + width)


def plot_saliency(x: np.ndarray, sal: np.ndarray, alphabet: str, path: str | os.PathLike | None = None, *,
                  title: str = "Saliency", zoom: int = 60, planted: list[tuple[int, int]] | None = None, axes=None):
    """Top: saliency along the whole sequence (heatmap, bases x positions). Bottom: letters scaled by
    importance around the peak -> Figure.

    ``x`` one-hot (L, 4) and ``sal`` (L, 4) of one sequence, channels in ``alphabet`` order (the
    model's); ``planted``: (start, stop) spans to shade. ``axes``: two Axes (heatmap, logo);
    ``path``: also write the picture there.
    """
    fig, (ax1, ax2), created = several_axes(axes, 2, (13, 5.5), nrows=2, ncols=1,
                                            gridspec_kw={"height_ratios": [1, 1.3]})
    im = ax1.imshow(sal.T, aspect="auto", cmap="Reds", interpolation="nearest")
    ax1.set_yticks(range(4), list(alphabet))
    ax1.set(xlabel="position (bp)", ylabel="base", title=title)
    for start, stop in planted or []:
        ax1.axvspan(start - 0.5, stop - 0.5, color="blue", alpha=0.15)
    fig.colorbar(im, ax=ax1, fraction=0.02).set_label("|gradient| x input")
    lo, hi = _window(sal.sum(1), zoom)
    draw_logo(ax2, sal[lo:hi], alphabet, information=False)
    ax2.set_xticks(range(0, hi - lo, 5), [str(lo + i) for i in range(0, hi - lo, 5)], fontsize=7)
    ax2.set(xlabel=f"position (bp), zoom on {lo}-{hi}", title="bases scaled by saliency")
    if planted:
        ax1.plot([], [], color="blue", alpha=0.3, lw=6, label="planted motif")
        ax1.legend(loc="upper right", fontsize=8)
    return finish(fig, path, tight=created)


def plot_ism(x: np.ndarray, ism: np.ndarray, alphabet: str, path: str | os.PathLike | None = None, *,
             title: str = "In-silico mutagenesis", zoom: int = 80, ax=None):
    """Heatmap of score changes for every substitution, zoomed on the most sensitive stretch -> Figure.

    ``x`` one-hot (L, 4) and ``ism`` (L, 4) of one sequence (``in_silico_mutagenesis(...)[n]`` for
    one feature), channels in ``alphabet`` order (the model's). ``ax``: the Axes to draw into;
    ``path``: also write the picture there.
    """
    lo, hi = _window(np.abs(ism).sum(1), zoom)
    lim = float(np.abs(ism).max()) or 1.0
    fig, ax, created = single_axes(ax, (13, 3))
    im = ax.imshow(ism[lo:hi].T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    letters = [alphabet[i] if x[p].max() > 0 else "N" for p, i in zip(range(lo, hi), x[lo:hi].argmax(1))]
    ax.set_xticks(range(hi - lo), letters, fontsize=6)
    ax.set_yticks(range(4), list(alphabet))
    ax.set(xlabel=f"reference sequence, positions {lo}-{hi}", ylabel="substituted base", title=title)
    fig.colorbar(im, ax=ax, fraction=0.02).set_label("change in score")
    return finish(fig, path, tight=created)


def plot_temporal(forward: np.ndarray, backward: np.ndarray, path: str | os.PathLike | None = None, *,
                  title: str = "Temporal output scores", ax=None):
    """Score of every prefix (forward, (L,)) and suffix (backward, (L,); NaN = not computed) along the
    sequence -> Figure. ``ax``: the Axes to draw into; ``path``: also write the picture there."""
    fig, ax, created = single_axes(ax, (12, 3.5))
    pos = np.arange(1, len(forward) + 1)
    ok_f, ok_b = ~np.isnan(forward), ~np.isnan(backward)
    ax.plot(pos[ok_f], forward[ok_f], label="forward: score of X[1..i]")
    ax.plot(pos[ok_b], backward[ok_b], label="backward: score of X[i..L]")
    ax.set(xlabel="position i (bp)", ylabel="score (logit)", title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return finish(fig, path, tight=created)


def plot_attributions(x: np.ndarray, contributions: np.ndarray, alphabet: str, path: str | os.PathLike | None = None,
                      *, title: str = "Attributions", zoom: int = 60, planted: list[tuple[int, int]] | None = None,
                      axes=None):
    """Signed attributions of one sequence -> Figure. Top: contribution per position (summed over
    bases; red raises the score, blue lowers it) along the whole sequence; bottom: the observed
    bases scaled by their signed contribution around the largest |contribution|.

    ``x`` one-hot (L, 4) and ``contributions`` (L, 4) (``Attributions.contributions[n]``), channels
    in ``alphabet`` order (the model's); ``planted``: (start, stop) spans to shade. ``axes``: two
    Axes; ``path``: also write the picture there.
    """
    fig, (ax1, ax2), created = several_axes(axes, 2, (13, 5.5), nrows=2, ncols=1,
                                            gridspec_kw={"height_ratios": [1, 1.3]})
    per_base = contributions.sum(1)
    pos = np.arange(len(per_base))
    ax1.bar(pos, per_base.clip(min=0), width=1.0, color="tab:red", label="raises the score")
    ax1.bar(pos, per_base.clip(max=0), width=1.0, color="tab:blue", label="lowers the score")
    ax1.axhline(0, color="black", lw=0.5)
    for start, stop in planted or []:
        ax1.axvspan(start - 0.5, stop - 0.5, color="gold", alpha=0.3)
    if planted:
        ax1.plot([], [], color="gold", alpha=0.5, lw=6, label="planted motif")
    ax1.set(xlim=(-0.5, len(per_base) - 0.5), xlabel="position (bp)", ylabel="contribution", title=title)
    ax1.legend(loc="upper right", fontsize=8)
    lo, hi = _window(np.abs(per_base), zoom)
    observed = np.asarray(x, float)[lo:hi] * per_base[lo:hi, None]  # the observed base's contribution
    draw_logo(ax2, observed, alphabet, information=False)
    ax2.axhline(0, color="black", lw=0.5)
    ax2.set_xticks(range(0, hi - lo, 5), [str(lo + i) for i in range(0, hi - lo, 5)], fontsize=7)
    ax2.set(xlabel=f"position (bp), zoom on {lo}-{hi}", ylabel="contribution",
            title="observed bases scaled by signed contribution")
    return finish(fig, path, tight=created)


def plot_pattern(ppm: np.ndarray, cwm: np.ndarray, path: str | os.PathLike | None = None, *,
                 title: str = "Pattern", axes=None):
    """A TF-MoDISco pattern -> Figure: its CWM (mean signed contributions) above its PPM as an
    information logo. ``ppm`` and ``cwm`` (W, 4) in A, C, G, T order; ``axes``: two Axes;
    ``path``: also write the picture there."""
    fig, (ax1, ax2), created = several_axes(axes, 2, (max(6, 0.35 * len(ppm) + 2), 4), nrows=2, ncols=1)
    draw_logo(ax1, cwm, "ACGT", information=False)
    ax1.axhline(0, color="black", lw=0.5)
    ax1.set(title=title, ylabel="contribution")
    draw_logo(ax2, ppm, "ACGT", information=True)
    ax2.set(xlabel="position in pattern")
    return finish(fig, path, tight=created)
