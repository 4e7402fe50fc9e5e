"""Score variants (SNVs, insertions, deletions, multi-base substitutions) by how they change
every predicted feature.

Window convention (L = the model's input length, h = L // 2, s = POS - 1 the 0-based start of
REF; REF and ALT are used as written in the VCF, the shared anchor base included):

* **ref window**: the genome ``[s + (len(REF) - 1) // 2 - h, ... + L)``: the middle base of REF
  (the left one of the two middles when its length is even) at 0-based index h. For an SNV the
  variant sits at index h, ``start = POS - 1 - h``.
* **alt window**: the same rule on the alternative haplotype ``genome[:s] + ALT +
  genome[s + len(REF):]``: the middle base of ALT at index h, the flanks read from the genome on
  both sides. So an insertion pushes as many bases out of the window on the left as on the right
  (one more on the right when the difference is odd) and a deletion pulls flanking bases in from
  the genome on both sides; both windows are L long and each is centered on its own allele, as
  Selene's ``_process_alt`` does (tangermeme's ``insertion_effect`` / ``deletion_effect`` trim
  or extend on one side only). An ALT longer than L keeps its middle L bases.

For SNVs and same-length substitutions ref and alt windows differ only at the allele. Past a
contig end the windows are padded with N. Both windows are predicted on the forward and
reverse-complement strands and averaged. Scores per feature: ``diff = P(alt) - P(ref)``,
``abs_diff``, ``logit_diff = logit(P(alt)) - logit(P(ref))``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chromseq.apps.predict import RunModel
from chromseq.data.vcf import (
    InfoField,
    Variant,
    VcfReport,
    escape_info,
    iter_variants,
    write_annotated_vcf,
)
from chromseq.errors import ChromseqError
from chromseq.outputs import H5Output, atomic_open

EPS = 1e-6
VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")


@dataclass
class VariantScores:
    variants: list[Variant] = field(default_factory=list)
    ref_match: list[bool] = field(default_factory=list)
    genome_ref: list[str] = field(default_factory=list)
    p_ref: list[np.ndarray] = field(default_factory=list)
    p_alt: list[np.ndarray] = field(default_factory=list)
    report: VcfReport = field(default_factory=VcfReport)
    ref_checked: dict[int, bool] = field(default_factory=dict)  # VCF line -> REF equals the genome
    kinds: Counter = field(default_factory=Counter)  # scored alleles by Variant.kind

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
    """Ref and alt windows of an SNV: ``window`` with ``alt`` at index len // 2 for the alt."""
    mid = len(window) // 2
    return window, window[:mid] + alt + window[mid + 1 :]


def allele_windows(fetch: Callable[[int, int], str], start: int, ref_len: int, alt: str,
                   length: int) -> tuple[str, str]:
    """Ref and alt windows of ``length`` bp for the allele ``alt`` replacing ``ref_len`` bases at
    0-based ``start``, each centered on its own allele (the module's convention).

    ``fetch(a, b)`` returns the genome's bases ``[a, b)``, N outside the contig.
    """
    h = length // 2
    ref_start = start + (ref_len - 1) // 2 - h
    ref_window = fetch(ref_start, ref_start + length)
    a, shift = len(alt), ref_len - len(alt)
    if shift == 0:  # same length: the alt window has the ref window's coordinates
        i = start - ref_start
        return ref_window, ref_window[:i] + alt + ref_window[i + a:]
    w0 = start + (a - 1) // 2 - h  # window start on the alt haplotype
    w1 = w0 + length
    left = fetch(w0, start) if w0 < start else ""
    middle = alt[max(0, w0 - start): max(0, min(a, w1 - start))]
    right_start = max(w0, start + a)
    right = fetch(right_start + shift, w1 + shift) if right_start < w1 else ""
    return ref_window, left + middle + right


def score_variants(rm: RunModel, vcf: str | os.PathLike, genome: str | os.PathLike, *,
                   use_genome_ref: bool = False, batch_size: int = 256, chunk: int = 1024) -> VariantScores:
    """Predict ref and alt windows (both strands averaged) for every sequence allele of ``vcf``:
    SNVs, insertions, deletions and substitutions, multi-allelic records split (one per ALT)."""
    from chromseq.data.fasta import Genome

    out = VariantScores()
    g = Genome(genome)

    def windows() -> Iterator[tuple[Variant, str, str, bool, str]]:
        for v in iter_variants(vcf, out.report):
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
            start = v.pos - 1
            base = g.fetch(contig, start, start + len(v.ref))
            match = base == v.ref
            if v.line_no not in out.ref_checked:
                out.ref_checked[v.line_no] = match
                if not match:
                    out.report.problems.append(
                        f"{vcf}:{v.line_no}: REF {v.ref} but the genome has {base} at {contig}:{v.pos}"
                        + ("; scored with the genome's bases" if use_genome_ref
                           else "; not scored (--use-genome-ref to score)"))
            if not match and not use_genome_ref:
                out.report.skipped["ref_mismatch"] += 1
                continue
            if v.alt == base:
                out.report.skipped["alt_equals_reference"] += 1
                continue
            ref_w, alt_w = allele_windows(partial(g.fetch, contig), start, len(v.ref), v.alt,
                                          rm.seq_len)
            yield v, ref_w, alt_w, match, base

    batch: list = []

    def flush():
        if not batch:
            return
        vs, refs, alts, matches, bases = zip(*batch)
        pred = rm.predict(list(refs) + list(alts), rc_average=True, batch_size=batch_size)
        out.variants.extend(vs)
        out.kinds.update(v.kind for v in vs)
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
            f.attrs["convention"] = ("each window centered on its allele (the middle base of REF / ALT at 0-based "
                                      "index L//2; an SNV at L//2); forward/RC averaged")
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


def variant_output_format(out: str | os.PathLike) -> str:
    """'tsv', 'h5' or 'vcf' from the name of ``out``; anything else is a ChromseqError."""
    name = Path(out).name.lower()
    if name.endswith(VCF_SUFFIXES):
        return "vcf"
    suffix = Path(name).suffix
    if suffix in (".h5", ".hdf5"):
        return "h5"
    if suffix in (".tsv", ".txt"):
        return "tsv"
    raise ChromseqError(f"--out {out}: unknown output format {suffix or '(no extension)'!r}; allowed: "
                        ".tsv (.txt), .h5 (.hdf5), .vcf, .vcf.gz (.vcf.bgz)")


def _info_number(value: float) -> str:
    return f"{value:.5g}"  # as the TSV writes it


def vcf_annotations(scored: VariantScores, feature_names: list[str], columns: np.ndarray,
                    top: int) -> dict[int, dict[str, str]]:
    """INFO values per VCF line: CHROMSEQ_MAXABS and CHROMSEQ_TOP per ALT allele (``.`` for an
    allele not scored), CHROMSEQ_REFMATCH per record (1/0, where the genome was read)."""
    s = scored.scores(len(feature_names))
    per_alt: dict[tuple[int, int], tuple[str, str]] = {}
    for i, v in enumerate(scored.variants):
        order = columns[np.argsort(-s["abs_diff"][i, columns], kind="stable")]
        shown = order[:top] if top else order
        best = _info_number(s["abs_diff"][i, order[0]]) if len(order) else "."
        tops = "&".join(f"{escape_info(feature_names[j])}:{_info_number(s['diff'][i, j])}" for j in shown)
        per_alt[(v.line_no, v.alt_index)] = (best, tops or ".")
    values: dict[int, dict[str, str]] = {}
    for line_no, match in scored.ref_checked.items():
        values[line_no] = {"CHROMSEQ_REFMATCH": "1" if match else "0"}
    for line_no in sorted({v.line_no for v in scored.variants}):
        n = scored.report.n_alts[line_no]
        alleles = [per_alt.get((line_no, k), (".", ".")) for k in range(n)]
        values.setdefault(line_no, {}).update({"CHROMSEQ_MAXABS": ",".join(a[0] for a in alleles),
                                               "CHROMSEQ_TOP": ",".join(a[1] for a in alleles)})
    return values


def write_variant_vcf(path: str | os.PathLike, vcf: str | os.PathLike, scored: VariantScores,
                      feature_names: list[str], columns: np.ndarray, *, top: int = 10,
                      about: str = "") -> tuple[int, list[str]]:
    """The input ``vcf`` with INFO fields CHROMSEQ_MAXABS, CHROMSEQ_TOP (Number=A: one value per
    ALT) and CHROMSEQ_REFMATCH, their ``##INFO`` lines and a ``##chromseq=`` line (``about``);
    plain ``.vcf`` or BGZF ``.vcf.gz``. Returns (records written, records left out)."""
    k = len(columns)
    how = "the model's window centered on each allele, both strands averaged"
    fields = [
        InfoField("CHROMSEQ_MAXABS", "A", "Float",
                  f"chromseq: largest |P(alt) - P(ref)| over {k} feature(s) ({how}); . = allele not scored"),
        InfoField("CHROMSEQ_TOP", "A", "String",
                  f"chromseq: the {top or k} feature(s) with the largest |diff| as name:diff (diff = "
                  "P(alt) - P(ref)) joined by &, names percent-encoded as in VCF 4.3; . = allele not scored"),
        InfoField("CHROMSEQ_REFMATCH", "1", "Integer",
                  "chromseq: 1 if REF equals the genome at POS, 0 if not (then not scored unless "
                  "--use-genome-ref)"),
    ]
    values = vcf_annotations(scored, feature_names, columns, top)
    return write_annotated_vcf(vcf, path, fields, values, [f"##chromseq={about}"] if about else [])


def variant_effect(run_dir: str | os.PathLike, vcf: str | os.PathLike, genome: str | os.PathLike,
                   out: str | os.PathLike, *, top: int = 10, pattern: str | None = None,
                   use_genome_ref: bool = False, plot_ids: list[str] | tuple[str, ...] = (),
                   batch_size: int = 256) -> tuple[VariantScores, list[str], list[str]]:
    """Score every variant of ``vcf`` (SNVs and indels) with a run's model, write ``out`` (.tsv:
    the ``top`` features per variant; .h5: all; .vcf / .vcf.gz: the input VCF annotated), and draw
    the variants named in ``plot_ids`` beside ``out``.

    Returns the scores, the lines that describe the result and the warnings (reported VCF lines,
    variants to plot that were not scored).
    """
    from chromseq.apps.predict import RunModel
    from chromseq.outputs import check_writable

    fmt = variant_output_format(out)
    check_writable(out)
    rm = RunModel.load(run_dir)
    scored = score_variants(rm, vcf, genome, use_genome_ref=use_genome_ref, batch_size=batch_size)
    columns = rm.select(pattern)
    warnings = [f"reported: {problem}" for problem in scored.report.problems[:50]]
    written = ""
    if fmt == "vcf":
        model = (rm.run.config().get("model") or {}).get("name") if rm.run else None
        about = (f"variant-effect run={Path(run_dir).resolve()} model={model or getattr(rm.model, 'name', '?')} "
                 f"window={rm.seq_len} genome={Path(genome).name} features={len(columns)}/{len(rm.feature_names)}")
        n, dropped = write_variant_vcf(out, vcf, scored, rm.feature_names, columns, top=top, about=about)
        warnings += [f"reported: {d}" for d in dropped]
        written = f" ({n} VCF records)"
    else:
        write_variant_scores(out, scored, rm.feature_names, columns, top=top)
    s = scored.scores(len(rm.feature_names))
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(scored.report.skipped.items())) or "none"
    kinds = ", ".join(f"{v} {k}" for k, v in sorted(scored.kinds.items())) or "none"
    lines = [f"{len(scored.variants)} variants scored ({kinds}) -> {out}{written}; skipped/split: {skipped}; "
             f"{len(scored.report.problems)} line(s) reported"]
    if scored.variants:
        best = np.argsort(-s["abs_diff"][:, columns].max(1))[:10]
        lines.append("largest effects (max |diff| over features):")
        for i in best:
            j = columns[int(np.argmax(s["abs_diff"][i, columns]))]
            lines.append(f"  {scored.variants[i].label:<28} {rm.feature_names[j]:<40} diff {s['diff'][i, j]:+.4f}")
    if plot_ids:
        stem = Path(out)
        stem = stem.with_name(stem.name[: -len(next(x for x in VCF_SUFFIXES if stem.name.lower().endswith(x)))]
                              if fmt == "vcf" else stem.stem)
        lines += plot_variants(rm, scored, genome, plot_ids, stem, warnings)
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
