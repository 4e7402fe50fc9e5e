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

from chromseq.errors import ChromseqError


@dataclass
class Motif:
    """A position weight matrix: ``pwm`` (W, 4) probabilities, columns A, C, G, T."""

    id: str
    name: str
    pwm: np.ndarray

    @property
    def width(self) -> int:
        return len(self.pwm)

    def consensus(self) -> str:
        return "".join("ACGT"[i] for i in self.pwm.argmax(1))

    def reverse_complement(self) -> Motif:
        return Motif(self.id, self.name, self.pwm[::-1, ::-1].copy())


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
    if text_start.startswith("MEME version") or any(ln.startswith("letter-probability matrix") for ln in lines):
        motifs = _read_meme(lines, path)
    elif any(ln.startswith(("PO", "P0")) for ln in lines):
        motifs = _read_transfac(lines, path)
    elif text_start.startswith(">"):
        motifs = _read_jaspar_pfm(lines, path)
    else:
        raise ChromseqError(f"{path}: line 1: not a MEME, TRANSFAC or JASPAR motif file")
    if not motifs:
        raise ChromseqError(f"{path}: no motifs found")
    return motifs


def _read_meme(lines: list[str], path: Path) -> list[Motif]:
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
            rows, j = [], j + 1
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
                j += 1
            if width is not None and len(rows) != width:
                raise ChromseqError(f"{path}: line {j + 1}: motif {mid} has {len(rows)} rows, header says w={width}")
            pwm = np.array(rows)[:, [alphabet.index(b) for b in "ACGT"]]
            motifs.append(Motif(mid, name, _normalize(pwm)))
            i = j
            continue
        i += 1
    return motifs


def _read_transfac(lines: list[str], path: Path) -> list[Motif]:
    motifs: list[Motif] = []
    mid = name = None
    order: list[str] | None = None
    rows: list[list[float]] = []
    for i, raw in enumerate(lines, 1):
        line = raw.rstrip()
        tag = line[:2]
        if tag in ("AC",) and len(line) > 3:
            mid = line[2:].strip()
        elif tag in ("ID",) and len(line) > 3:
            name = line[2:].strip()
        elif tag in ("NA",) and len(line) > 3 and name is None:
            name = line[2:].strip()
        elif tag in ("PO", "P0"):
            order = [c.upper() for c in line.split()[1:5]]
            if sorted(order) != list("ACGT"):
                raise ChromseqError(f"{path}: line {i}: matrix header {line!r} does not name A, C, G, T")
            rows = []
        elif order is not None and line[:2].strip().isdigit():
            cells = line.split()
            try:
                values = [float(c) for c in cells[1:5]]
            except ValueError as exc:
                raise ChromseqError(f"{path}: line {i}: cannot parse matrix row {line!r}") from exc
            if len(values) != 4:
                raise ChromseqError(f"{path}: line {i}: expected 4 counts, found {len(values)}")
            rows.append(values)
        elif line.startswith("//"):
            if order is not None and rows:
                pwm = np.array(rows)[:, [order.index(b) for b in "ACGT"]]
                motifs.append(Motif(mid or name or f"motif{len(motifs) + 1}", name or mid or "", _normalize(pwm)))
            mid = name = order = None
            rows = []
    if order is not None and rows:
        pwm = np.array(rows)[:, [order.index(b) for b in "ACGT"]]
        motifs.append(Motif(mid or name or f"motif{len(motifs) + 1}", name or mid or "", _normalize(pwm)))
    return motifs


def _read_jaspar_pfm(lines: list[str], path: Path) -> list[Motif]:
    """JASPAR .jaspar format: '>ID NAME' then 'A [ counts ]' rows."""
    motifs: list[Motif] = []
    header, rows = None, {}
    for i, raw in enumerate([*lines, ">"], 1):
        line = raw.strip()
        if line.startswith(">"):
            if header is not None:
                if sorted(rows) != list("ACGT"):
                    raise ChromseqError(f"{path}: line {i}: motif {header[0]} lacks rows for {set('ACGT') - set(rows)}")
                pwm = np.array([rows[b] for b in "ACGT"]).T
                motifs.append(Motif(header[0], header[-1], _normalize(pwm)))
            parts = line[1:].split()
            header, rows = (parts or [f"motif{len(motifs) + 1}"]), {}
        elif line:
            m = re.match(r"([ACGT])\s*\[?([^\]]*)\]?", line)
            if not m:
                raise ChromseqError(f"{path}: line {i}: cannot parse {line!r}")
            try:
                rows[m.group(1)] = [float(v) for v in m.group(2).split()]
            except ValueError as exc:
                raise ChromseqError(f"{path}: line {i}: cannot parse counts {line!r}") from exc
    return motifs


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
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(out))
