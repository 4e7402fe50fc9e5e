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


def variant_effect(run_dir: str | os.PathLike, vcf: str | os.PathLike, genome: str | os.PathLike,
                   out: str | os.PathLike, *, top: int = 10, pattern: str | None = None,
                   use_genome_ref: bool = False, plot_ids: list[str] | tuple[str, ...] = (),
                   batch_size: int = 256) -> tuple[VariantScores, list[str], list[str]]:
    """Score every SNV of ``vcf`` with a run's model, write ``out`` (.tsv: the ``top`` features per
    variant; .h5: all), and draw the variants named in ``plot_ids`` beside ``out``.

    Returns the scores, the lines that describe the result and the warnings (reported VCF lines,
    variants to plot that were not scored).
    """
    from chromseq.apps.predict import RunModel
    from chromseq.outputs import check_writable

    check_writable(out)
    rm = RunModel.load(run_dir)
    scored = score_variants(rm, vcf, genome, use_genome_ref=use_genome_ref, batch_size=batch_size)
    columns = rm.select(pattern)
    write_variant_scores(out, scored, rm.feature_names, columns, top=top)
    warnings = [f"reported: {problem}" for problem in scored.report.problems[:50]]
    s = scored.scores(len(rm.feature_names))
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(scored.report.skipped.items())) or "none"
    lines = [f"{len(scored.variants)} SNVs scored -> {out}; skipped/split: {skipped}; "
             f"{len(scored.report.problems)} line(s) reported"]
    if scored.variants:
        best = np.argsort(-s["abs_diff"][:, columns].max(1))[:10]
        lines.append("largest effects (max |diff| over features):")
        for i in best:
            j = columns[int(np.argmax(s["abs_diff"][i, columns]))]
            lines.append(f"  {scored.variants[i].label:<28} {rm.feature_names[j]:<40} diff {s['diff'][i, j]:+.4f}")
    if plot_ids:
        lines += plot_variants(rm, scored, genome, plot_ids, Path(out).with_suffix(""), warnings)
    return scored, lines, warnings


def plot_variants(rm: RunModel, scored: VariantScores, genome: str | os.PathLike, plot_ids, stem: Path,
                  warnings: list[str], flank: int = 20) -> list[str]:
    """Draw the feature profile and the ISM around each variant of ``plot_ids`` (ID or label) into
    ``<stem>_<label>.png``; returns 'wrote ...' lines, appends unknown IDs to ``warnings``."""
    from chromseq.data.encoding import one_hot
    from chromseq.data.fasta import Genome
    from chromseq.interpret.ism import in_silico_mutagenesis
    from chromseq.plots.variants import plot_variant

    s = scored.scores(len(rm.feature_names))
    lines = []
    g = Genome(genome)
    for wanted in plot_ids:
        hits = [i for i, v in enumerate(scored.variants) if wanted in (v.id, v.label)]
        if not hits:
            warnings.append(f"--plot-variant {wanted}: no scored variant with that ID")
            continue
        i = hits[0]
        v = scored.variants[i]
        start = v.pos - 1 - rm.seq_len // 2
        window = g.fetch(g.resolve(v.chrom), start, start + rm.seq_len)
        feature = int(np.argmax(s["abs_diff"][i]))
        mid = rm.seq_len // 2
        ism = in_silico_mutagenesis(rm.model, one_hot([window], rm.alphabet, strict=False), feature,
                                    positions=range(mid - flank, mid + flank + 1), alphabet=rm.alphabet)[0]
        path = f"{stem}_{v.label.replace(':', '_').replace('>', '_')}.png"
        plot_variant(v.label, s["p_ref"][i], s["p_alt"][i], rm.feature_names, ism, window, rm.alphabet,
                     feature, path, flank)
        lines.append(f"wrote {path}")
    g.close()
    return lines
