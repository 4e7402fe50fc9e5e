"""Fit sequences to a model's input length: centered, padded with N or cropped."""

from __future__ import annotations


def center_window(seq: str, length: int) -> tuple[str, str]:
    """``seq`` centered in ``length`` bp: cropped around its middle or padded with N on both sides.

    Returns the window and what was done ('exact', 'cropped' or 'padded').
    """
    n = len(seq)
    if n == length:
        return seq, "exact"
    if n > length:
        start = (n - length) // 2
        return seq[start : start + length], "cropped"
    left = (length - n) // 2
    return "N" * left + seq + "N" * (length - n - left), "padded"
