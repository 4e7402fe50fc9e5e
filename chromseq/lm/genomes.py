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


def write_synthetic_genome(kind: str, length: int, out, seed: int = 0) -> None:
    """Write ``synthetic_genome(kind, length, seed)`` to ``out`` as one FASTA record (60 bases a line)."""
    from chromseq.outputs import atomic_open

    seq = synthetic_genome(kind, length, seed)
    with atomic_open(out, "w") as fh:
        fh.write(f">{kind}_{length}\n")
        fh.writelines(seq[i : i + 60] + "\n" for i in range(0, len(seq), 60))
