"""First-layer convolution filters as motifs (as DanQ and Basset do)."""

from __future__ import annotations

import numpy as np

from chromseq.data.motifs import Motif
from chromseq.errors import ChromseqError


def first_conv(model):
    """The first Conv1D layer of ``model`` (raises when there is none)."""
    for layer in model.layers:
        if type(layer).__name__ == "Conv1D":
            return layer
    raise ChromseqError("the model has no convolution layer: filter motifs need a CNN (e.g. deepsea, danq, demo_cnn)")


def filter_motifs(model, x: np.ndarray, *, threshold: float = 0.5, alphabet: str = "AGCT",
                  batch_size: int = 256, progress: bool | None = None) -> tuple[list[Motif], np.ndarray]:
    """PWMs of the first-layer filters from the windows that activate them.

    For each filter, every position whose activation exceeds ``threshold`` x the filter's maximum
    over ``x`` contributes its input window (aligned on the filter); base counts -> PWM (ACGT
    columns). Returns the motifs and the number of windows (sites) behind each. ``progress``: a
    bar on stderr over the batches (None: only on a terminal).
    """
    import keras

    from chromseq.progress import progress_bar

    conv = first_conv(model)
    width = conv.kernel_size[0]
    same = conv.padding == "same"
    sub = keras.Model(model.input, conv.output)
    x = np.asarray(x, np.float32)
    batches = progress_bar(range(0, len(x), batch_size), desc="filter activations", unit="batch", show=progress)
    acts = np.concatenate([np.asarray(sub(x[i : i + batch_size], training=False)) for i in batches])  # (N, P, F)
    n_filters = acts.shape[-1]
    offset = (width - 1) // 2 if same else 0
    padded = np.pad(x, ((0, 0), (width, width), (0, 0)))  # windows past the edges read as N
    order = [alphabet.index(b) for b in "ACGT"]
    motifs, sites = [], np.zeros(n_filters, np.int64)
    peak = acts.max(axis=(0, 1))
    for f in range(n_filters):
        counts = np.zeros((width, 4))
        if peak[f] > 0:
            seq_idx, pos = np.nonzero(acts[:, :, f] > threshold * peak[f])
            starts = pos - offset + width  # index into the padded array
            windows = padded[seq_idx[:, None], starts[:, None] + np.arange(width)]  # (S, W, 4)
            counts = windows.sum(0)[:, order]
            sites[f] = len(seq_idx)
        total = counts.sum(1, keepdims=True)
        pwm = np.where(total > 0, counts / np.where(total > 0, total, 1), 0.25)
        motifs.append(Motif(f"filter{f}", f"filter{f}", pwm))
    return motifs, sites


def information_content(pwm: np.ndarray) -> np.ndarray:
    """Bits per column of an ACGT PWM."""
    p = np.clip(pwm, 1e-9, 1)
    return 2 + (p * np.log2(p)).sum(1)


def trim(motif: Motif, min_ic: float = 0.3) -> Motif:
    """Drop low-information columns at both ends (all of them when none reaches ``min_ic``)."""
    ic = information_content(motif.pwm)
    keep = np.flatnonzero(ic >= min_ic)
    if not len(keep):
        # width 0, so a filter that learned nothing is matched to nothing: uniform columns sit
        # close to the flat flanks of long database motifs and would get tiny Tomtom p-values
        return Motif(motif.id, motif.name, motif.pwm[:0])
    return Motif(motif.id, motif.name, motif.pwm[keep[0] : keep[-1] + 1])
