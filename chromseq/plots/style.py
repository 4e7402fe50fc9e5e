"""Shared plot style: one color per base (whatever the alphabet order), one per feature class."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display needed

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
