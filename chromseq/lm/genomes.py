"""Synthetic sanity genomes (Zhang & Kamath): an AGCTTGAGGC repeat and a uniform random genome."""

from __future__ import annotations

import numpy as np

REPEAT_UNIT = "AGCTTGAGGC"


def synthetic_genome(kind: str, length: int = 30000, seed: int = 0) -> str:
    if kind == "repeat":
        return (REPEAT_UNIT * (length // len(REPEAT_UNIT) + 1))[:length]
    if kind == "random":
        return "".join(np.random.default_rng(seed).choice(list("ACGT"), length))
    raise ValueError(f"unknown kind {kind!r}")
