"""Synthetic DeepSEA-layout bundles with planted motifs: every command runs without the 3.4 GB download.

The labels have the structure that makes real chromatin data learnable and interpretable:

* TF-like features fire when their motif is planted in the central bin (DeepSEA labels the
  central 200 bp of each 1000-bp window) *and* the sample is "open" in that feature's cell
  type (a per-sample, per-cell draw shared by all features of the cell), so one motif drives
  several cell-type-specific features, as a real TF does across cell lines;
* DNase-like features fire when any of a few motifs is in the central bin of an open sample,
  or when the central GC content is very high;
* histone-like features follow broad composition: CpG-island-like sequences (H3K4me3-like),
  AT-rich sequences (H3K9me3-like), clusters of several motifs (H3K27ac-like).

Decoy instances are also planted outside the central bin: they do not count, so a model must
learn position as well as motif. Each split holds every sequence and then its reverse
complement (same labels), as the real bundle does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chromseq.data.annotations import FeatureTable
from chromseq.data.encoding import DEEPSEA_ALPHABET, indices_to_one_hot
from chromseq.data.motifs import Motif

# Consensus sequences (IUPAC) of well-known vertebrate TF motifs; see JASPAR for the full PWMs.
BUILTIN_CONSENSUS = {
    "CTCF": "CCGCGNGGNGGCAG", "GATA1": "AGATAAGA", "AP-1": "TGACTCAT", "CREB1": "TGACGTCA",
    "ELK1": "CCGGAAGT", "NRF1": "GCGCATGCGC", "SP1": "GGGGCGGGGC", "YY1": "AAGATGGCGGC",
    "FOXA1": "TGTTTACWYW", "MYC": "CCACGTGG", "NFKB1": "GGGAATTTCC", "CEBPB": "ATTGCGCAAT",
    "HNF4A": "GGTCAAAGGTCA", "RUNX1": "TGTGGTTT", "TEAD1": "ACATTCCA", "TP53": "RRRCATGYYYRRRCATGYYY",
    "REST": "TTCAGCACCATGGACAGCGCC", "NR3C1": "AGAACANNNTGTTCT", "SOX2": "CCTTTGTT", "HNF1A": "GTTAATNATTAAC",
    "MEF2A": "CTAAAAATAG", "IRF1": "AAGTGAAAGT", "STAT1": "TTCCNGGAA", "NFYA": "RRCCAATSRG",
}
_IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
          "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}
CELL_TYPES = [
    "GM12878", "K562", "HepG2", "HeLa-S3", "H1-hESC", "A549", "MCF-7", "IMR-90", "SK-N-SH", "HUVEC",
    "NHEK", "HSMM", "HCT-116", "Ishikawa", "GM12891", "GM12892", "T-47D", "ECC-1", "PANC-1", "PFSK-1",
    "U2OS", "HEK293", "NB4", "Raji", "HL-60", "Jurkat", "Caco-2", "BE2C", "HFF", "NHLF",
    "Osteobl", "Fibrobl", "Monocytes-CD14+", "CD4+", "H9ES", "LNCaP", "8988T", "AoSMC", "HPAF", "Gliobla",
]
TREATMENTS = ["None", "IFNa4h", "Estradiol", "DMSO", "Dex_100nM", "Hypoxia"]
HISTONE_MARKS = {"H3K4me3": "cpg", "H3K4me2": "cpg", "H3K9ac": "cpg", "H3K9me3": "at",
                 "H3K27me3": "at", "H3K27ac": "cluster", "H3K4me1": "cluster", "H3K36me3": "at"}


def builtin_motifs() -> list[Motif]:
    """The built-in motif set: IUPAC consensus -> PWM with 91 % on the consensus base."""
    out = []
    for name, consensus in BUILTIN_CONSENSUS.items():
        pwm = np.zeros((len(consensus), 4))
        for i, code in enumerate(consensus):
            bases = _IUPAC[code]
            for j, b in enumerate("ACGT"):
                pwm[i, j] = 0.91 / len(bases) if b in bases else 0.09 / (4 - len(bases)) if len(bases) < 4 else 0.25
        out.append(Motif(f"builtin:{name}", name, pwm / pwm.sum(1, keepdims=True)))
    return out


@dataclass
class FeatureSpec:
    """How one synthetic feature is labelled."""

    name: str
    cell_type: str
    element: str
    treatment: str
    feature_class: str
    rule: str          # 'motif', 'any_motif_or_gc', 'cpg', 'at', 'cluster'
    motifs: list[int] = field(default_factory=list)
    cell: int = 0
    open_rate: float = 1.0
    quantile: float = 0.95


def motifs_from_file(motif_file: str | os.PathLike, n_motifs: int = 24, seed: int = 0) -> list[Motif]:
    """Up to ``n_motifs`` motifs of width 6-20 drawn (seeded) from a MEME or JASPAR/TRANSFAC file;
    the others are named in a warning, and a file with none is refused."""
    from chromseq.data.motifs import read_motifs
    from chromseq.errors import ChromseqError, warn

    every = read_motifs(motif_file)
    pool = [m for m in every if 6 <= m.width <= 20]
    dropped = [f"{m.id} ({m.width} bp)" for m in every if not 6 <= m.width <= 20]
    if not pool:
        raise ChromseqError(f"{motif_file}: none of its {len(every)} motif(s) has a width of 6-20 bp "
                            f"(the widths synth plants): {', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''}")
    if dropped:
        warn(f"{motif_file}: {len(dropped)} of {len(every)} motif(s) outside widths 6-20 bp not used: "
             f"{', '.join(dropped[:10])}{', ...' if len(dropped) > 10 else ''}")
    pick = np.random.default_rng(seed).choice(len(pool), min(n_motifs, len(pool)), replace=False)
    return [pool[i] for i in sorted(pick)]


def design_features(n_features: int, motifs: list[Motif], seed: int = 0) -> list[FeatureSpec]:
    """Split ``n_features`` into DNase / TF / histone in DeepSEA's proportions (125/690/104 of 919)."""
    rng = np.random.default_rng([seed, 7])
    n_dnase = int(round(n_features * 125 / 919))
    n_hist = int(round(n_features * 104 / 919))
    n_tf = n_features - n_dnase - n_hist
    if n_tf < 1:
        n_tf, n_dnase = 1, max(0, n_dnase - 1)
    specs: list[FeatureSpec] = []
    ncell = len(CELL_TYPES)
    for i in range(n_dnase):
        cell, treat = i % ncell, TREATMENTS[(i // ncell) % len(TREATMENTS)]
        specs.append(FeatureSpec(f"{CELL_TYPES[cell]}|DNase|{treat}", CELL_TYPES[cell], "DNase", treat, "DNase",
                                 "any_motif_or_gc", list(rng.choice(len(motifs), min(2, len(motifs)), replace=False)),
                                 cell, float(rng.uniform(0.2, 0.45)), 0.985))
    for i in range(n_tf):
        m = i % len(motifs)
        cell = (i // len(motifs) * 7 + m) % ncell
        treat = TREATMENTS[(i // (len(motifs) * ncell)) % len(TREATMENTS)]
        specs.append(FeatureSpec(f"{CELL_TYPES[cell]}|{motifs[m].name}|{treat}", CELL_TYPES[cell], motifs[m].name,
                                 treat, "TF", "motif", [m], cell, float(rng.uniform(0.75, 1.0))))
    marks = list(HISTONE_MARKS)
    for i in range(n_hist):
        mark, cell = marks[i % len(marks)], (i // len(marks) * 3 + i) % ncell
        specs.append(FeatureSpec(f"{CELL_TYPES[cell]}|{mark}|None", CELL_TYPES[cell], mark, "None", "histone",
                                 HISTONE_MARKS[mark], [], cell, float(rng.uniform(0.7, 1.0)),
                                 float(rng.uniform(0.93, 0.98))))
    return specs


@dataclass
class SynthData:
    """Arrays of one synthetic split: x (N, L, 4) uint8 in ``alphabet``, y (N, K) uint8, planted motifs."""

    x: np.ndarray
    y: np.ndarray
    planted: dict[str, np.ndarray]
    features: list[FeatureSpec]
    motifs: list[Motif]
    alphabet: str = DEEPSEA_ALPHABET
    center: tuple[int, int] = (0, 0)


def _sample_pwm(pwm: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n instances (n, W) of base indices (ACGT) drawn column by column from ``pwm``."""
    cum = np.cumsum(pwm, axis=1)
    u = rng.random((n, len(pwm), 1))
    return np.minimum((u > cum[None]).sum(-1), 3)


def generate(
    n: int,
    length: int = 1000,
    n_features: int = 919,
    seed: int | list[int] = 0,
    motifs: list[Motif] | None = None,
    *,
    center: int = 200,
    plant_rate: float = 0.10,
    decoy_rate: float = 0.03,
    alphabet: str = DEEPSEA_ALPHABET,
) -> SynthData:
    """``n`` samples (n // 2 sequences and their reverse complements) with planted motifs and labels."""
    motifs = motifs or builtin_motifs()
    center = min(center, length)
    width = max(m.width for m in motifs)
    if width > center:
        raise ValueError(f"motif width {width} exceeds the central bin ({center} bp)")
    rng = np.random.default_rng(seed)
    specs = design_features(n_features, motifs, seed=0)  # the same features for every split
    nb = (n + 1) // 2
    # background: per-sequence GC, 10 % CpG-island-like sequences
    island = rng.random(nb) < 0.10
    gc = np.where(island, rng.uniform(0.58, 0.70, nb), rng.beta(8, 11, nb))
    u = rng.random((nb, length))
    p_at = (1 - gc)[:, None] / 2
    idx = np.where(u < p_at, 0, np.where(u < 0.5, 1, np.where(u < 0.5 + gc[:, None] / 2, 2, 3))).astype(np.int8)
    if island.any():  # inject CpG dinucleotides
        rows = np.flatnonzero(island)
        cpg = rng.random((len(rows), length - 1)) < 0.04
        r, c = np.nonzero(cpg)
        idx[rows[r], c], idx[rows[r], c + 1] = 1, 2
    lo = (length - center) // 2
    hi = lo + center
    instances = []
    for m, motif in enumerate(motifs):
        for decoy, rate in ((False, plant_rate), (True, decoy_rate)):
            rows = np.flatnonzero(rng.random(nb) < rate)
            if not len(rows):
                continue
            inst = _sample_pwm(motif.pwm, len(rows), rng)
            strand = np.where(rng.random(len(rows)) < 0.5, 1, -1)
            inst = np.where(strand[:, None] > 0, inst, 3 - inst[:, ::-1])
            if decoy:
                left = rng.random(len(rows)) < 0.5
                left_room, right_room = lo - motif.width, length - hi - motif.width
                if left_room < 0 or right_room < 0:
                    continue
                start = np.where(left, rng.integers(0, left_room + 1, len(rows)),
                                 hi + rng.integers(0, right_room + 1, len(rows)))
            else:
                start = lo + rng.integers(0, center - motif.width + 1, len(rows))
            cols = start[:, None] + np.arange(motif.width)
            idx[rows[:, None], cols] = inst
            instances.append((m, rows, start, strand, inst, not decoy))
    # keep only instances that later plantings did not overwrite
    present = np.zeros((nb, len(motifs)), bool)
    planted = {k: [] for k in ("sample", "motif", "start", "strand", "center")}
    for m, rows, start, strand, inst, central in instances:
        cols = start[:, None] + np.arange(inst.shape[1])
        intact = (idx[rows[:, None], cols] == inst).all(1)
        rows, start, strand = rows[intact], start[intact], strand[intact]
        if central:
            present[rows, m] = True
        for key, value in (("sample", rows), ("motif", np.full(len(rows), m)), ("start", start),
                           ("strand", strand), ("center", np.full(len(rows), central))):
            planted[key].append(value)
    planted_arr = {k: np.concatenate(v) if v else np.zeros(0, int) for k, v in planted.items()}
    # labels
    ncell = len(CELL_TYPES)
    openness = rng.random((nb, ncell))
    central_gc = np.isin(idx[:, lo:hi], (1, 2)).mean(1)
    whole_gc = np.isin(idx, (1, 2)).mean(1)
    cpg_count = ((idx[:, :-1] == 1) & (idx[:, 1:] == 2)).sum(1)
    n_present = present.sum(1)
    y = np.zeros((nb, len(specs)), np.uint8)
    for f, s in enumerate(specs):
        is_open = openness[:, s.cell] < s.open_rate
        if s.rule == "motif":
            label = present[:, s.motifs[0]] & is_open
        elif s.rule == "any_motif_or_gc":
            label = (present[:, s.motifs].any(1) & is_open) | (central_gc > np.quantile(central_gc, s.quantile))
        elif s.rule == "cpg":
            label = (cpg_count > np.quantile(cpg_count, s.quantile)) & is_open
        elif s.rule == "at":
            label = (whole_gc < np.quantile(whole_gc, 1 - s.quantile)) & is_open
        else:  # cluster: the smallest motif count that at most 8 % of sequences reach
            k_min = next(k for k in range(1, len(motifs) + 2) if (n_present >= k).mean() <= 0.08)
            label = (n_present >= k_min) & is_open
        y[:, f] = label
    # forward then reverse complement, as in the real bundle
    x_fwd = indices_to_one_hot(idx.astype(np.uint8))
    rc_idx = (3 - idx[:, ::-1]).astype(np.uint8)
    x = np.concatenate([x_fwd, indices_to_one_hot(rc_idx)])[:n]
    y = np.concatenate([y, y])[:n]
    widths = np.array([m.width for m in motifs])
    rc_planted = {"sample": planted_arr["sample"] + nb, "motif": planted_arr["motif"],
                  "start": length - planted_arr["start"] - widths[planted_arr["motif"]],
                  "strand": -planted_arr["strand"], "center": planted_arr["center"]}
    keep = rc_planted["sample"] < n
    planted_all = {k: np.concatenate([planted_arr[k], rc_planted[k][keep]]).astype(np.int64 if k != "center" else bool)
                   for k in planted_arr}
    if alphabet != "ACGT":
        x = x[..., ["ACGT".index(b) for b in alphabet]]
    return SynthData(x=np.ascontiguousarray(x), y=y, planted=planted_all, features=specs, motifs=motifs,
                     alphabet=alphabet, center=(lo, hi))


def feature_table(specs: list[FeatureSpec]) -> FeatureTable:
    return FeatureTable([s.name for s in specs], [s.cell_type for s in specs], [s.element for s in specs],
                        [s.treatment for s in specs], [s.feature_class for s in specs])


TRAIN_CHUNK = 200_000


def _write_chunks(path: Path, split: str, n: int, length: int, n_features: int, seed: int,
                  motifs: list[Motif] | None) -> tuple[SynthData, dict, np.ndarray]:
    """One split (train.mat v7.3, valid/test.mat v5) written ``TRAIN_CHUNK`` samples at a time, so
    memory (~4 GB at 1000 bp) does not grow with ``n``; up to ``TRAIN_CHUNK`` samples it is one
    ``generate`` call. Larger splits hold chunks of sequences-then-reverse-complements, each chunk
    seeded ``[seed, chunk]`` with its label thresholds (GC, CpG quantiles) taken within the chunk."""
    from chromseq.data.mat import MatV73Writer
    from chromseq.data.matv5 import MatV5Writer

    planted: dict[str, list] = {}
    positives = np.zeros(n_features)
    writer = (MatV73Writer(path, length, n_features, split="train") if split == "train"
              else MatV5Writer(path, n, length, n_features, split=split))
    with writer:
        for c, lo in enumerate(range(0, n, TRAIN_CHUNK)):
            m = min(TRAIN_CHUNK, n - lo)
            data = generate(m, length, n_features, seed=seed if n <= TRAIN_CHUNK else [seed, c], motifs=motifs)
            for start in range(0, m, 8192):
                writer.append(data.x[start : start + 8192], data.y[start : start + 8192])
            positives += data.y.sum(0)
            for key, value in data.planted.items():
                planted.setdefault(key, []).append(value + lo if key == "sample" else value)
            del data.x
    return data, {k: np.concatenate(v) for k, v in planted.items()}, positives / n


def write_bundle(
    out_dir: str | os.PathLike,
    *,
    n_train: int = 20000,
    n_valid: int = 2000,
    n_test: int = 2000,
    length: int = 1000,
    n_features: int = 919,
    motifs: list[Motif] | None = None,
    seed: int = 0,
) -> dict:
    """Write train.mat (v7.3), valid.mat, test.mat (v5), features.tsv/.xlsx, truth.json, motifs.meme, planted_*.npz."""
    from chromseq.outputs import atomic_output, atomic_write_text, write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"out": str(out), "length": length, "n_features": n_features, "seed": seed, "splits": {}}
    data = None
    for i, (split, n) in enumerate((("train", n_train), ("valid", n_valid), ("test", n_test))):
        data, planted, prevalence = _write_chunks(out / f"{split}.mat", split, n, length, n_features,
                                                  seed * 1000 + i, motifs)
        with atomic_output(out / f"planted_{split}.npz") as tmp:
            np.savez_compressed(tmp, **planted)
        summary["splits"][split] = {"samples": n, "mean_prevalence": float(prevalence.mean()),
                                    "min_prevalence": float(prevalence.min()),
                                    "max_prevalence": float(prevalence.max())}
    table = feature_table(data.features)
    table.write_tsv(out / "features.tsv")
    table.write_xlsx(out / "features.xlsx")
    truth = {
        "alphabet": DEEPSEA_ALPHABET,
        "pwm_columns": "ACGT",
        "center": list(data.center),
        "motifs": [{"index": i, "id": m.id, "name": m.name, "pwm": np.round(m.pwm, 5).tolist()}
                   for i, m in enumerate(data.motifs)],
        "features": [{"index": f, "name": s.name, "feature_class": s.feature_class, "rule": s.rule,
                      "motifs": [int(m) for m in s.motifs], "cell_type": s.cell_type}
                     for f, s in enumerate(data.features)],
        "note": "planted_<split>.npz: sample, motif (index into motifs), start (0-based), strand (+1/-1), "
                "center (True when inside the labelled central bin)",
    }
    atomic_write_text(out / "truth.json", json.dumps(truth, indent=1))
    from chromseq.data.motifs import write_meme

    write_meme(out / "motifs.meme", data.motifs)  # the planted PWMs, for `interpret filters --motif-db`
    write_json(out / "synth.json", summary)
    return summary
