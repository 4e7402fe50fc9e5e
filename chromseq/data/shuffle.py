"""Dinucleotide-preserving shuffles (Altschul & Erikson 1985, via Kandel et al. 1996's Euler paths).

The sequence is a walk through the graph whose vertices are letters and whose edges are its
dinucleotides. A random Eulerian walk that starts at the first letter and ends at the last uses
every edge once, so it keeps every dinucleotide count (and the first and last letters) exactly.
Drawing one uniformly: pick, for every letter but the last, a random "last exit" edge; accept if
those edges form a tree into the last letter; shuffle every other exit order; walk.
"""

from __future__ import annotations

import numpy as np


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """A random sequence with exactly the dinucleotide counts, first and last letter of ``seq``."""
    if len(seq) < 3:
        return seq
    exits: dict[str, list[str]] = {}
    for a, b in zip(seq, seq[1:]):
        exits.setdefault(a, []).append(b)
    last = seq[-1]
    vertices = [v for v in exits if v != last]
    while True:
        last_exit = {v: int(rng.integers(len(exits[v]))) for v in vertices}
        if _is_tree(last_exit, exits, last):
            break
    order: dict[str, list[str]] = {}
    for v, edges in exits.items():
        edges = list(edges)
        tail = edges.pop(last_exit[v]) if v in last_exit else None
        rng.shuffle(edges)
        order[v] = edges + ([tail] if tail is not None else [])
    out = [seq[0]]
    position = {v: 0 for v in order}
    for _ in range(len(seq) - 1):
        v = out[-1]
        out.append(order[v][position[v]])
        position[v] += 1
    return "".join(out)


def _is_tree(last_exit: dict[str, int], exits: dict[str, list[str]], root: str) -> bool:
    """Do the chosen last exits lead every vertex to ``root`` without a cycle?"""
    for v in last_exit:
        seen = set()
        while v != root:
            if v in seen:
                return False
            seen.add(v)
            v = exits[v][last_exit[v]]
    return True


def dinucleotide_counts(seq: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a, b in zip(seq, seq[1:]):
        counts[a + b] = counts.get(a + b, 0) + 1
    return counts


def shuffle_all(seqs: list[str], seed: int = 0) -> list[str]:
    """Shuffle each sequence independently with one seeded generator."""
    rng = np.random.default_rng(seed)
    return [dinucleotide_shuffle(s, rng) for s in seqs]
