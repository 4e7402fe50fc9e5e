"""Motif files: MEME (minimal) and JASPAR/TRANSFAC readers, a MEME writer.

PWMs are (W, 4) probabilities in ACGT column order, whatever the dataset's one-hot order.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError, warn


@dataclass
class Motif:
    """A position weight matrix: ``pwm`` (W, 4) probabilities, columns A, C, G, T; ``taxon``: the
    database's taxonomic group (JASPAR TRANSFAC ``CC tax_group:``), None when the file has none."""

    id: str
    name: str
    pwm: np.ndarray
    taxon: str | None = None

    @property
    def width(self) -> int:
        return len(self.pwm)

    def consensus(self) -> str:
        return "".join("ACGT"[i] for i in self.pwm.argmax(1))

    def reverse_complement(self) -> Motif:
        return Motif(self.id, self.name, self.pwm[::-1, ::-1].copy(), self.taxon)


def _normalize(counts: np.ndarray, pseudocount: float = 0.0) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64) + pseudocount
    sums = counts.sum(1, keepdims=True)
    return np.where(sums > 0, counts / np.where(sums > 0, sums, 1), 0.25)


def _lines(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rt") if gz else open(path)) as fh:
            return fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChromseqError(f"{path}: cannot read motif file ({exc})") from exc


def read_motifs(path: str | os.PathLike) -> list[Motif]:
    """Read every motif of a MEME or JASPAR/TRANSFAC file (plain or gzipped)."""
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    lines = _lines(path)
    text_start = next((ln.strip() for ln in lines if ln.strip()), "")
    notes: list[str] = []
    if text_start.startswith("MEME version") or any(ln.startswith("letter-probability matrix") for ln in lines):
        motifs = _read_meme(lines, path, notes)
    elif any(ln.startswith(("PO", "P0")) for ln in lines):
        motifs = _read_transfac(lines, path, notes)
    elif text_start.startswith(">"):
        motifs = _read_jaspar_pfm(lines, path, notes)
    else:
        raise ChromseqError(f"{path}: line 1: not a MEME, TRANSFAC or JASPAR motif file")
    if not motifs:
        raise ChromseqError(f"{path}: no motifs found")
    if notes:
        warn(f"{path}: {len(notes)} motif(s) renormalized: {'; '.join(notes[:5])}{'; ...' if len(notes) > 5 else ''}")
    return motifs


def _check_matrix(values: np.ndarray, lines: list[int], path: Path, mid: str, probabilities: bool,
                  notes: list[str]) -> np.ndarray:
    """Refuse NaN, infinite or negative entries and probability rows far from summing to 1 (more
    than 0.1 off); note rows a little off (more than 0.01) or count rows without counts."""
    what = "probabilities" if probabilities else "counts"
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise ChromseqError(f"{path}: line {lines[r]}: motif {mid} holds {values[r, c]:g}; {what} must be "
                            "finite and non-negative")
    sums = values.sum(1)
    if probabilities:
        off = np.abs(sums - 1)
        r = int(off.argmax()) if len(off) else 0
        if len(off) and off[r] > 0.1:
            raise ChromseqError(f"{path}: line {lines[r]}: motif {mid} row sums to {sums[r]:.4g}; letter "
                                "probabilities must sum to 1")
        if len(off) and off[r] > 0.01:
            notes.append(f"{mid} (line {lines[r]}: row sums to {sums[r]:.4g})")
    elif (sums == 0).any():
        r = int(np.flatnonzero(sums == 0)[0])
        notes.append(f"{mid} (line {lines[r]}: a position without counts, read as uniform)")
    return values


def _read_meme(lines: list[str], path: Path, notes: list[str]) -> list[Motif]:
    alphabet = "ACGT"
    motifs, i = [], 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("ALPHABET="):
            alphabet = line.split("=", 1)[1].strip()
            if sorted(alphabet) != list("ACGT"):
                raise ChromseqError(f"{path}: line {i + 1}: alphabet {alphabet!r} is not DNA")
        if line.startswith("MOTIF"):
            parts = line.split()
            if len(parts) < 2:
                raise ChromseqError(f"{path}: line {i + 1}: MOTIF without an identifier")
            mid, name = parts[1], parts[2] if len(parts) > 2 else parts[1]
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("letter-probability"):
                if lines[j].strip().startswith("MOTIF"):
                    raise ChromseqError(f"{path}: line {j + 1}: motif {mid} has no letter-probability matrix")
                j += 1
            if j == len(lines):
                raise ChromseqError(f"{path}: line {i + 1}: motif {mid} has no letter-probability matrix")
            m = re.search(r"w=\s*(\d+)", lines[j])
            width = int(m.group(1)) if m else None
            rows, row_lines, j = [], [], j + 1
            while j < len(lines) and (width is None or len(rows) < width):
                cells = lines[j].split()
                if not cells:
                    if width is None and rows:
                        break
                    j += 1
                    continue
                if cells[0].startswith(("MOTIF", "URL")):
                    break
                try:
                    values = [float(c) for c in cells]
                except ValueError as exc:
                    raise ChromseqError(f"{path}: line {j + 1}: cannot parse matrix row {lines[j].strip()!r}") from exc
                if len(values) != 4:
                    raise ChromseqError(f"{path}: line {j + 1}: expected 4 probabilities, found {len(values)}")
                rows.append(values)
                row_lines.append(j + 1)
                j += 1
            if width is not None and len(rows) != width:
                raise ChromseqError(f"{path}: line {j + 1}: motif {mid} has {len(rows)} rows, header says w={width}")
            if not rows:
                raise ChromseqError(f"{path}: line {j}: motif {mid} has an empty matrix (width 0)")
            pwm = _check_matrix(np.array(rows), row_lines, path, mid, True, notes)[:, [alphabet.index(b) for b in "ACGT"]]
            motifs.append(Motif(mid, name, _normalize(pwm)))
            i = j
            continue
        i += 1
    return motifs


def _read_transfac(lines: list[str], path: Path, notes: list[str]) -> list[Motif]:
    motifs: list[Motif] = []
    mid = name = taxon = None
    order: list[str] | None = None
    rows: list[list[float]] = []
    row_lines: list[int] = []

    def finish() -> None:
        label = mid or name or f"motif{len(motifs) + 1}"
        pwm = _check_matrix(np.array(rows), row_lines, path, label, False, notes)[:, [order.index(b) for b in "ACGT"]]
        motifs.append(Motif(label, name or mid or "", _normalize(pwm), taxon))

    for i, raw in enumerate(lines, 1):
        line = raw.rstrip()
        tag = line[:2]
        if tag in ("AC",) and len(line) > 3:
            mid = line[2:].strip()
        elif tag in ("ID",) and len(line) > 3:
            name = line[2:].strip()
        elif tag in ("NA",) and len(line) > 3 and name is None:
            name = line[2:].strip()
        elif line.startswith("CC tax_group:"):
            taxon = line.split(":", 1)[1].strip() or None
        elif tag in ("PO", "P0"):
            order = [c.upper() for c in line.split()[1:5]]
            if sorted(order) != list("ACGT"):
                raise ChromseqError(f"{path}: line {i}: matrix header {line!r} does not name A, C, G, T")
            rows, row_lines = [], []
        elif order is not None and line[:2].strip().isdigit():
            cells = line.split()
            try:
                values = [float(c) for c in cells[1:5]]
            except ValueError as exc:
                raise ChromseqError(f"{path}: line {i}: cannot parse matrix row {line!r}") from exc
            if len(values) != 4:
                raise ChromseqError(f"{path}: line {i}: expected 4 counts, found {len(values)}")
            rows.append(values)
            row_lines.append(i)
        elif line.startswith("//"):
            if order is not None and rows:
                finish()
            mid = name = order = taxon = None
            rows, row_lines = [], []
    if order is not None and rows:
        finish()
    return motifs


def _read_jaspar_pfm(lines: list[str], path: Path, notes: list[str]) -> list[Motif]:
    """JASPAR .jaspar format: '>ID NAME' then 'A [ counts ]' rows."""
    motifs: list[Motif] = []
    header, rows, row_lines = None, {}, {}
    for i, raw in enumerate([*lines, ">"], 1):
        line = raw.strip()
        if line.startswith(">"):
            if header is not None:
                if sorted(rows) != list("ACGT"):
                    raise ChromseqError(f"{path}: line {i}: motif {header[0]} lacks rows for {set('ACGT') - set(rows)}")
                if len({len(rows[b]) for b in "ACGT"}) != 1:
                    raise ChromseqError(f"{path}: line {i}: motif {header[0]} has rows of different lengths "
                                        f"({', '.join(f'{b} {len(rows[b])}' for b in 'ACGT')})")
                counts = np.array([rows[b] for b in "ACGT"])
                first_bad = int(np.argmax((~np.isfinite(counts) | (counts < 0)).any(1)))
                line_of_column = [row_lines["ACGT"[first_bad]]] * counts.shape[1]
                pwm = _check_matrix(counts.T, line_of_column, path, header[0], False, notes)
                motifs.append(Motif(header[0], header[-1], _normalize(pwm)))
            parts = line[1:].split()
            header, rows, row_lines = (parts or [f"motif{len(motifs) + 1}"]), {}, {}
        elif line:
            m = re.match(r"([ACGT])\s*\[?([^\]]*)\]?", line)
            if not m:
                raise ChromseqError(f"{path}: line {i}: cannot parse {line!r}")
            try:
                rows[m.group(1)] = [float(v) for v in m.group(2).split()]
                row_lines[m.group(1)] = i
            except ValueError as exc:
                raise ChromseqError(f"{path}: line {i}: cannot parse counts {line!r}") from exc
    return motifs


def select_taxon(motifs: list[Motif], taxon: str, source: str | os.PathLike = "the motif database") -> list[Motif]:
    """The motifs of ``taxon`` (case-insensitive, e.g. 'vertebrates', 'plants', 'insects', 'fungi',
    'nematodes', 'urochordates'), by the database's own annotations (JASPAR TRANSFAC
    ``CC tax_group:`` lines). Raises when ``source`` has no annotations or not that taxon."""
    present = sorted({m.taxon for m in motifs if m.taxon})
    if not present:
        raise ChromseqError(f"{source}: --taxon needs taxon annotations ('CC tax_group:' lines of a JASPAR "
                            "TRANSFAC file); this file has none")
    wanted = taxon.strip().lower()
    chosen = [m for m in motifs if m.taxon and m.taxon.lower() == wanted]
    if not chosen:
        raise ChromseqError(f"{source}: no motif of taxon {taxon!r}; taxa present: {', '.join(present)}")
    return chosen


def write_meme(path: str | os.PathLike, motifs: list[Motif], *, background: np.ndarray | None = None,
               nsites: list[int] | None = None) -> None:
    """Write motifs as a MEME minimal-format file (ACGT columns)."""
    bg = np.full(4, 0.25) if background is None else np.asarray(background, float)
    out = ["MEME version 4", "", "ALPHABET= ACGT", "", "strands: + -", "",
           "Background letter frequencies", " ".join(f"{b} {p:.3f}" for b, p in zip("ACGT", bg)), ""]
    for i, m in enumerate(motifs):
        sites = nsites[i] if nsites is not None else 20
        out.append(f"MOTIF {m.id} {m.name}".rstrip())
        out.append(f"letter-probability matrix: alength= 4 w= {m.width} nsites= {sites} E= 0")
        out.extend(" ".join(f"{p:.6f}" for p in row) for row in m.pwm)
        out.append("")
    from chromseq.outputs import atomic_write_text

    atomic_write_text(path, "\n".join(out))
