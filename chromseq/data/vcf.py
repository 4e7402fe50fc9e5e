"""VCF (v4.x, plain or gzipped): sequence variants, one record per ALT allele, and annotated copies.

Reading is line by line (malformed lines are reported with their line number and the file goes
on): SNVs, insertions, deletions and multi-base substitutions whose alleles are spelt in
A, C, G, T (N allowed); symbolic (``<DEL>``), breakend and missing (``*``, ``.``) alleles are
skipped and counted. ``write_annotated_vcf`` copies a VCF with INFO fields added and writes it
through htslib (cyvcf2), so what it writes is a VCF that htslib, bcftools and cyvcf2 read.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chromseq.data.textio import iter_text_lines
from chromseq.errors import ChromseqError

_ALLELE = re.compile(r"[ACGTN]+")


@dataclass(frozen=True)
class Variant:
    """One ALT allele of a VCF record (``alt_index``: its place in the record's ALT list)."""

    chrom: str
    pos: int        # 1-based, as in the VCF
    id: str
    ref: str
    alt: str
    line_no: int
    alt_index: int = 0

    @property
    def label(self) -> str:
        return self.id if self.id != "." else f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"

    @property
    def kind(self) -> str:
        """'SNV', 'insertion', 'deletion' or 'substitution' (several bases, or REF and ALT both > 1 bp)."""
        if len(self.ref) == len(self.alt):
            return "SNV" if len(self.ref) == 1 else "substitution"
        if len(self.ref) == 1 and self.alt[0] == self.ref:
            return "insertion"
        if len(self.alt) == 1 and self.ref[0] == self.alt:
            return "deletion"
        return "substitution"


@dataclass
class VcfReport:
    """What was skipped or wrong, for the summary."""

    skipped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    n_alts: dict[int, int] = field(default_factory=dict)  # VCF line -> number of ALT alleles


def iter_variants(path: str | os.PathLike, report: VcfReport, *, snvs_only: bool = False) -> Iterator[Variant]:
    """Yield every sequence allele (multi-allelic records split, one Variant per ALT); count the
    skipped ones in ``report`` (``indel`` and ``mnv_or_other`` too when ``snvs_only``)."""
    path = Path(path)
    header_seen = False
    for line_no, line in iter_text_lines(path, "VCF"):
        if line.startswith("##"):
            header_seen = header_seen or line.startswith("##fileformat=VCF")
            continue
        if line.startswith("#CHROM"):
            header_seen = True
            continue
        if not line.strip():
            continue
        if not header_seen:
            raise ChromseqError(f"{path}:{line_no}: no VCF header (##fileformat=VCF / #CHROM line) "
                                "before the first record")
        cols = parse_record(line)
        position = _position(cols)
        if position is None:
            reason = ("expected at least 5 tab-separated columns" if cols is None
                      else f"POS {cols[1]!r} is not an integer")
            report.problems.append(f"{path}:{line_no}: {reason}")
            report.skipped["malformed"] += 1
            continue
        chrom, _, vid, ref, alts = cols[:5]
        alt_list = alts.split(",")
        report.n_alts[line_no] = len(alt_list)
        if len(alt_list) > 1:
            report.skipped["multi_allelic_records_split"] += 1
        ref_u = ref.upper()
        for alt_index, alt in enumerate(alt_list):
            alt_u = alt.upper()
            if alt_u in (".", "*") or alt_u.startswith("<") or "[" in alt_u or "]" in alt_u:
                report.skipped["symbolic_or_missing"] += 1
            elif len(ref_u) == 1 and len(alt_u) == 1 and ref_u in "ACGTN" and alt_u in "ACGT":
                yield Variant(chrom, position, vid, ref_u, alt_u, line_no, alt_index)
            elif snvs_only and len(ref_u) != len(alt_u):
                report.skipped["indel"] += 1
            elif snvs_only or not (_ALLELE.fullmatch(ref_u) and _ALLELE.fullmatch(alt_u)):
                report.skipped["mnv_or_other"] += 1
            else:
                yield Variant(chrom, position, vid, ref_u, alt_u, line_no, alt_index)


def iter_snvs(path: str | os.PathLike, report: VcfReport) -> Iterator[Variant]:
    """Yield SNVs only (multi-allelic records split); indels and other alleles are counted."""
    return iter_variants(path, report, snvs_only=True)


def parse_record(line: str) -> list[str] | None:
    """The tab-separated columns of a VCF data line; None when it has fewer than 5."""
    cols = line.rstrip("\r\n").split("\t")
    return cols if len(cols) >= 5 else None


def _position(cols: list[str] | None) -> int | None:
    try:
        return int(cols[1]) if cols is not None else None
    except ValueError:
        return None


# -- annotated copies ------------------------------------------------------------------------

_VCF_RESERVED = {"%": "%25", ":": "%3A", ";": "%3B", "=": "%3D", ",": "%2C", "&": "%26", " ": "%20",
                 "\t": "%09", "\n": "%0A", "\r": "%0D", "\u00a0": "%C2%A0"}


def escape_info(text: str) -> str:
    """``text`` percent-encoded (VCF 4.3, section 1.2) for an INFO string value: no ``% : ; = , &``
    or white space is left, so ``name:value`` pairs joined by ``&`` split back without ambiguity."""
    return "".join(_VCF_RESERVED.get(c, c) for c in text)


@dataclass(frozen=True)
class InfoField:
    """An INFO field to add: ``##INFO=<ID=..,Number=..,Type=..,Description="..">``."""

    id: str
    number: str
    type: str
    description: str

    def header_line(self) -> str:
        description = self.description.replace("\\", "\\\\").replace('"', '\\"')
        return f'##INFO=<ID={self.id},Number={self.number},Type={self.type},Description="{description}">'


_DECLARED = re.compile(r"##(INFO|FORMAT|FILTER|contig)=<ID=([^,>]+)")


def write_annotated_vcf(src: str | os.PathLike, out: str | os.PathLike, fields: list[InfoField],
                        values: dict[int, dict[str, str]], header: list[str] = ()) -> tuple[int, list[str]]:
    """Copy the VCF ``src`` to ``out`` (``.vcf``, or BGZF-compressed ``.vcf.gz`` / ``.vcf.bgz``)
    with the INFO ``fields`` set, per record, from ``values[line_no] = {field_id: text}``.

    Every data record is kept with its other columns unchanged, in input order; earlier values of
    the same fields are replaced; ``header`` lines (``##key=value``) and the fields' ``##INFO``
    lines are added. Contigs, FILTER, INFO and FORMAT keys that the input uses without declaring them are
    declared (htslib refuses to write them otherwise). Records htslib cannot parse (malformed
    lines, reported when read) are left out. Written atomically. Returns (records written,
    messages about the records left out).
    """
    import cyvcf2

    from chromseq.outputs import atomic_output

    src, out = Path(src), Path(out)
    ours = {f.id for f in fields}
    meta: list[str] = []
    column_line = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    records: list[tuple[int, str]] = []
    declared: dict[str, set[str]] = {"INFO": set(), "FORMAT": set(), "FILTER": {"PASS"}, "contig": set()}
    used: dict[str, dict[str, None]] = {"INFO": {}, "FORMAT": {}, "FILTER": {}, "contig": {}}
    dropped: list[str] = []
    for line_no, line in iter_text_lines(src, "VCF"):
        line = line.rstrip("\r\n")
        if line.startswith("##"):
            m = _DECLARED.match(line)
            if m and m.group(1) == "INFO" and m.group(2) in ours:
                continue  # replaced by this run's definition
            if m:
                declared[m.group(1)].add(m.group(2))
            meta.append(line)
            continue
        if line.startswith("#CHROM"):
            column_line = line
            continue
        if not line.strip():
            continue
        cols = parse_record(line)
        if _position(cols) is None:
            dropped.append(f"{src}:{line_no}: malformed record left out of {out}")
            continue
        cols += ["."] * (8 - len(cols))
        info = [kv for kv in cols[7].split(";") if kv not in (".", "") and kv.split("=", 1)[0] not in ours]
        used["contig"][cols[0]] = None
        used["FILTER"].update((key, None) for key in cols[6].split(";") if key not in (".", ""))
        used["INFO"].update((kv.split("=", 1)[0], None) for kv in info)
        if len(cols) > 8:
            used["FORMAT"].update((key, None) for key in cols[8].split(":") if key not in (".", ""))
        mine = values.get(line_no, {})
        info += [f"{f.id}={mine[f.id]}" for f in fields if f.id in mine]
        cols[7] = ";".join(info) or "."
        records.append((line_no, "\t".join(cols)))
    if not any(line.startswith("##fileformat=") for line in meta):
        meta.insert(0, "##fileformat=VCFv4.2")
    extra = [f"##contig=<ID={c}>" for c in used["contig"] if c not in declared["contig"]]
    extra += [f'##INFO=<ID={k},Number=.,Type=String,Description="Not declared in {src.name}">'
              for k in used["INFO"] if k not in declared["INFO"]]
    extra += [f'##FILTER=<ID={k},Description="Not declared in {src.name}">'
              for k in used["FILTER"] if k not in declared["FILTER"]]
    extra += [f'##FORMAT=<ID={k},Number=.,Type=String,Description="Not declared in {src.name}">'
              for k in used["FORMAT"] if k not in declared["FORMAT"]]
    text = "\n".join([*meta, *extra, *(f.header_line() for f in fields), *header, column_line]) + "\n"
    mode = "wz" if out.name.endswith((".gz", ".bgz")) else "w"
    written = 0
    with atomic_output(out) as tmp:
        writer = cyvcf2.Writer.from_string(str(tmp), text, mode=mode)
        try:
            for line_no, record in records:
                try:
                    writer.write_record(writer.variant_from_string(record))
                    written += 1
                except Exception as exc:  # noqa: BLE001 - htslib's refusal, reported per record
                    dropped.append(f"{src}:{line_no}: htslib cannot write this record ({exc}); left out of {out}")
        finally:
            writer.close()
    return written, dropped
