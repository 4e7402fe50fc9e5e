"""Score single-nucleotide variants by how they change every predicted feature.

Convention: the window has the model's length L and the variant sits at 0-based index L // 2
(so ``start = POS - 1 - L // 2``). Ref and alt windows differ only there; both are predicted on
the forward and reverse-complement strands and averaged. Scores per feature:
``diff = P(alt) - P(ref)``, ``abs_diff``, ``logit_diff = logit(P(alt)) - logit(P(ref))``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chromseq.apps.predict import RunModel
from chromseq.data.vcf import Variant, VcfReport, iter_snvs
from chromseq.outputs import H5Output, atomic_open

EPS = 1e-6


@dataclass
class VariantScores:
    variants: list[Variant] = field(default_factory=list)
    ref_match: list[bool] = field(default_factory=list)
    genome_ref: list[str] = field(default_factory=list)
    p_ref: list[np.ndarray] = field(default_factory=list)
    p_alt: list[np.ndarray] = field(default_factory=list)
    report: VcfReport = field(default_factory=VcfReport)

    def arrays(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.p_ref:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.float32)
        return np.concatenate(self.p_ref), np.concatenate(self.p_alt)

    def scores(self, k: int) -> dict[str, np.ndarray]:
        ref, alt = self.arrays(k)
        r, a = np.clip(ref, EPS, 1 - EPS), np.clip(alt, EPS, 1 - EPS)
        diff = alt - ref
        return {"p_ref": ref, "p_alt": alt, "diff": diff, "abs_diff": np.abs(diff),
                "logit_diff": np.log(a / (1 - a)) - np.log(r / (1 - r))}


def variant_windows(variant_ref: str, alt: str, window: str) -> tuple[str, str]:
    """Ref and alt windows: ``window`` with ``alt`` at index len // 2 for the alt."""
    mid = len(window) // 2
    return window, window[:mid] + alt + window[mid + 1 :]


def score_variants(rm: RunModel, vcf: str | os.PathLike, genome: str | os.PathLike, *,
                   use_genome_ref: bool = False, batch_size: int = 256, chunk: int = 1024) -> VariantScores:
    """Predict ref and alt windows (both strands averaged) for every SNV of ``vcf``."""
    from chromseq.data.fasta import Genome

    out = VariantScores()
    g = Genome(genome)
    half = rm.seq_len // 2

    def windows() -> Iterator[tuple[Variant, str, str, bool, str]]:
        for v in iter_snvs(vcf, out.report):
            contig = g.resolve(v.chrom)
            if contig is None:
                out.report.problems.append(f"{vcf}:{v.line_no}: contig {v.chrom!r} not in {genome}")
                out.report.skipped["contig_missing"] += 1
                continue
            if v.pos < 1 or v.pos > g.contigs[contig]:
                out.report.problems.append(f"{vcf}:{v.line_no}: position {v.pos} beyond {contig} "
                                           f"({g.contigs[contig]} bp)")
                out.report.skipped["position_out_of_range"] += 1
                continue
            start = v.pos - 1 - half
            window = g.fetch(contig, start, start + rm.seq_len)
            base = window[half]
            match = base == v.ref
            if not match:
                out.report.problems.append(f"{vcf}:{v.line_no}: REF {v.ref} but the genome has {base} at "
                                           f"{contig}:{v.pos}" + ("; scored with the genome's base" if use_genome_ref
                                                                  else "; not scored (--use-genome-ref to score)"))
                if not use_genome_ref:
                    out.report.skipped["ref_mismatch"] += 1
                    continue
            if v.alt == base:
                out.report.skipped["alt_equals_reference"] += 1
                continue
            ref_w, alt_w = variant_windows(base, v.alt, window)
            yield v, ref_w, alt_w, match, base

    batch: list = []

    def flush():
        if not batch:
            return
        vs, refs, alts, matches, bases = zip(*batch)
        pred = rm.predict(list(refs) + list(alts), rc_average=True, batch_size=batch_size)
        out.variants.extend(vs)
        out.ref_match.extend(matches)
        out.genome_ref.extend(bases)
        out.p_ref.append(pred[: len(vs)])
        out.p_alt.append(pred[len(vs):])
        batch.clear()

    with tqdm(desc="variants", unit="var", disable=None) as bar:
        for item in windows():
            batch.append(item)
            if len(batch) == chunk:
                flush()
                bar.update(chunk)
        n = len(batch)
        flush()
        bar.update(n)
    g.close()
    return out


def write_variant_scores(path: str | os.PathLike, scored: VariantScores, feature_names: list[str],
                         columns: np.ndarray, top: int = 0) -> None:
    """HDF5 (all scores, variant and feature labels) or TSV (long format; top-N features by |diff| per variant)."""
    path = Path(path)  # written under a temporary name and renamed when complete
    s = scored.scores(len(feature_names))
    names = [feature_names[i] for i in columns]
    labels = [v.label for v in scored.variants]
    if path.suffix in (".h5", ".hdf5"):
        with H5Output(path) as f:
            for key in ("diff", "abs_diff", "logit_diff", "p_ref", "p_alt"):
                f[key] = s[key][:, columns]
            f["variants"] = np.array(labels, dtype="S")
            f["chrom"] = np.array([v.chrom for v in scored.variants], dtype="S")
            f["pos"] = np.array([v.pos for v in scored.variants], dtype=np.int64)
            f["ref"] = np.array([v.ref for v in scored.variants], dtype="S")
            f["alt"] = np.array([v.alt for v in scored.variants], dtype="S")
            f["ref_match"] = np.array(scored.ref_match, dtype=bool)
            f["features"] = np.array(names, dtype="S")
            f.attrs["convention"] = "variant at 0-based index L//2 of each window; forward/RC averaged"
        return
    with atomic_open(path, "w") as fh:
        fh.write("variant\tchrom\tpos\tref\talt\tref_match\tfeature\tp_ref\tp_alt\tdiff\tabs_diff\tlogit_diff\n")
        for i, v in enumerate(scored.variants):
            order = columns[np.argsort(-s["abs_diff"][i, columns], kind="stable")]
            if top:
                order = order[:top]
            for j in order:
                fh.write(f"{labels[i]}\t{v.chrom}\t{v.pos}\t{v.ref}\t{v.alt}\t{scored.ref_match[i]}\t"
                         f"{feature_names[j]}\t{s['p_ref'][i, j]:.5g}\t{s['p_alt'][i, j]:.5g}\t{s['diff'][i, j]:.5g}\t"
                         f"{s['abs_diff'][i, j]:.5g}\t{s['logit_diff'][i, j]:.5g}\n")
