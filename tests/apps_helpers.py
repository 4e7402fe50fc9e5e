"""A motif-detector model with fixed weights, saved as a run directory (no training needed)."""

from __future__ import annotations

import keras
import numpy as np

from chromseq.data.annotations import FeatureTable
from chromseq.data.encoding import one_hot, reverse_complement_str
from chromseq.runs import RunInfo, write_run_info

MOTIF = "GATAAGGCTT"


def motif_run(run_dir, seq_len: int = 101, alphabet: str = "AGCT"):
    """P(feature) ~ 1 when MOTIF (either strand) is in the window, ~0 otherwise."""
    w = len(MOTIF)
    inputs = keras.Input((None, 4), name="sequence")
    conv = keras.layers.Conv1D(2, w, activation="relu", name="scan")
    hits = keras.layers.GlobalMaxPooling1D()(conv(inputs))
    logits = keras.layers.Dense(1, name="logits")
    out = keras.layers.Activation("sigmoid", name="output", dtype="float32")(logits(hits))
    model = keras.Model(inputs, out)
    kernel = np.stack([one_hot(MOTIF, alphabet), one_hot(reverse_complement_str(MOTIF), alphabet)], -1)
    conv.set_weights([kernel.astype("float32"), np.full(2, -(w - 1.0), "float32")])  # 1 only on a full match
    logits.set_weights([np.full((2, 1), 10.0, "float32"), np.array([-5.0], "float32")])
    run_dir.mkdir(parents=True, exist_ok=True)
    model.save(run_dir / "model.keras")
    write_run_info(run_dir, RunInfo(path=run_dir, alphabet=alphabet, seq_len=seq_len, n_features=1))
    FeatureTable(["K562|GATA1|None"], ["K562"], ["GATA1"], ["None"], ["TF"]).write_tsv(run_dir / "features.tsv")
    return run_dir


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
