"""Run directories around toy models with fixed weights (no training needed), and a random genome."""

from __future__ import annotations

import numpy as np
from toy_models import MOTIF, Toy, dyadic, flatten_dense, motif_scanner

from chromseq.data.annotations import FeatureTable
from chromseq.data.encoding import reverse_complement_str
from chromseq.runs import RunInfo, write_run_info

__all__ = ["MOTIF", "linear_run", "motif_run", "random_genome", "save_run"]


def save_run(toy: Toy, run_dir, seq_len: int, alphabet: str = "AGCT", names: list[str] | None = None) -> Toy:
    """Write ``toy``'s model as the run directory ``run_dir`` (model.keras, dataset.json, features.tsv)."""
    k = toy.model.output_shape[-1]
    names = names or [f"C{i}|F{i}|None" for i in range(k)]
    run_dir.mkdir(parents=True, exist_ok=True)
    toy.model.save(run_dir / "model.keras")
    write_run_info(run_dir, RunInfo(path=run_dir, alphabet=alphabet, seq_len=seq_len, n_features=k))
    cells, elements = [n.split("|")[0] for n in names], [n.split("|")[1] for n in names]
    FeatureTable(list(names), cells, elements, ["None"] * k, ["TF"] * k).write_tsv(run_dir / "features.tsv")
    return toy


def motif_run(run_dir, seq_len: int = 101, alphabet: str = "AGCT", *, fixed_length: bool = False) -> Toy:
    """The motif scanner of toy_models as a run: logit 5 when MOTIF (either strand) is in the window, -5 if not.

    The model takes any length unless ``fixed_length`` (then its input is ``seq_len`` long).
    """
    toy = motif_scanner(MOTIF, alphabet, seq_len=seq_len if fixed_length else None)
    return save_run(toy, run_dir, seq_len, alphabet, ["K562|GATA1|None"])


def linear_run(run_dir, seq_len: int, n_features: int = 2, alphabet: str = "AGCT", seed: int = 0) -> Toy:
    """A Flatten -> Dense run without a sigmoid: each output an exact fingerprint of the window it was given.

    Weights are random multiples of 1/4, so a window's outputs are exact in float32 and two windows
    that differ anywhere (base, N, shift, strand) almost surely get different outputs.
    """
    rng = np.random.default_rng(seed)
    toy = flatten_dense(dyadic(rng, (seq_len, 4, n_features)), dyadic(rng, n_features), use_sigmoid=False)
    return save_run(toy, run_dir, seq_len, alphabet)


def random_genome(path, lengths: dict[str, int], plant: dict[str, int], seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    seqs = {}
    for name, n in lengths.items():
        s = list("".join(rng.choice(list("ACGT"), n)))
        seqs[name] = "".join(s)
    # remove accidental motif copies, then plant
    for name in seqs:
        seqs[name] = seqs[name].replace(MOTIF, "A" * len(MOTIF)).replace(reverse_complement_str(MOTIF), "A" * len(MOTIF))
    for name, pos in plant.items():
        s = seqs[name]
        seqs[name] = s[:pos] + MOTIF + s[pos + len(MOTIF):]
    with open(path, "w") as fh:
        for name, s in seqs.items():
            fh.write(f">{name}\n")
            fh.writelines(s[i:i + 60] + "\n" for i in range(0, len(s), 60))
    return seqs
