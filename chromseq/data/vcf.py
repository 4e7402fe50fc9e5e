"""VCF (v4.x, plain or gzipped): single-nucleotide variants, one record per ALT allele.

Indels, symbolic and other non-SNV alleles are skipped and counted; malformed lines are
reported with their line number and the file goes on.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chromseq.data.textio import iter_text_lines
from chromseq.errors import ChromseqError


@dataclass(frozen=True)
class Variant:
    chrom: str
    pos: int        # 1-based, as in the VCF
    id: str
    ref: str
    alt: str
    line_no: int

    @property
    def label(self) -> str:
        return self.id if self.id != "." else f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"


@dataclass
class VcfReport:
    """What was skipped or wrong, for the summary."""

    skipped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def iter_snvs(path: str | os.PathLike, report: VcfReport) -> Iterator[Variant]:
    """Yield SNVs (multi-allelic records split); count skipped alleles in ``report``."""
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
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 5:
            report.problems.append(f"{path}:{line_no}: expected at least 5 tab-separated columns")
            report.skipped["malformed"] += 1
            continue
        chrom, pos, vid, ref, alts = cols[:5]
        try:
            position = int(pos)
        except ValueError:
            report.problems.append(f"{path}:{line_no}: POS {pos!r} is not an integer")
            report.skipped["malformed"] += 1
            continue
        alt_list = alts.split(",")
        if len(alt_list) > 1:
            report.skipped["multi_allelic_records_split"] += 1
        for alt in alt_list:
            ref_u, alt_u = ref.upper(), alt.upper()
            if len(ref_u) == 1 and len(alt_u) == 1 and ref_u in "ACGTN" and alt_u in "ACGT":
                yield Variant(chrom, position, vid, ref_u, alt_u, line_no)
            elif alt_u in (".", "*") or alt_u.startswith("<") or "[" in alt_u or "]" in alt_u:
                report.skipped["symbolic_or_missing"] += 1
            elif len(ref_u) != len(alt_u):
                report.skipped["indel"] += 1
            else:
                report.skipped["mnv_or_other"] += 1
