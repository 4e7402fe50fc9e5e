"""FASTA genomes: streaming records and random access that never loads a genome into memory.

Plain and bgzip-compressed files are indexed in place by pyfaidx (a ``.fai`` beside them, or
in the cache when the folder is read-only). A plain-gzip file cannot be accessed at random,
so it is decompressed once into the cache (``$CHROMSEQ_CACHE`` or ``~/.cache/chromseq``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

_VALID = np.zeros(256, dtype=bool)
for _c in "ACGTNRYKMSWBDHVacgtnrykmswbdhv":
    _VALID[ord(_c)] = True


def cache_dir() -> Path:
    """Folder for decompressed genomes and indexes (``$CHROMSEQ_CACHE`` or ``~/.cache/chromseq``)."""
    return Path(os.environ.get("CHROMSEQ_CACHE", Path.home() / ".cache" / "chromseq"))


def _open_text(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path)


def check_sequence(seq: str, where: str) -> None:
    """Raise if ``seq`` holds a character that is not ACGT, N or an IUPAC code (any case)."""
    raw = np.frombuffer(seq.encode("latin-1", "replace"), np.uint8)
    bad = ~_VALID[raw]
    if bad.any():
        pos = int(np.argmax(bad))
        raise ChromseqError(f"{where}: invalid character {seq[pos]!r} at position {pos + 1} "
                            "(expected ACGT, N or IUPAC codes)")


def read_fasta(path: str | os.PathLike, *, upper: bool = True, check: bool = True,
               allow_empty: bool = False) -> Iterator[tuple[str, str]]:
    """Yield ``(name, sequence)`` for each record of a plain or gzipped FASTA file.

    ``name`` is the first word of the header. Sequences are upper-cased (soft-masking
    dropped) unless ``upper=False``; with ``check`` odd characters raise with the record;
    a record without sequence (0 bp) raises unless ``allow_empty``.
    """
    path = Path(path)
    if not path.exists():
        raise ChromseqError(f"{path}: file not found")
    name, chunks, seen, header_line = None, [], False, 0
    try:
        with _open_text(path) as fh:
            for line_no, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                if line.startswith(">"):
                    if name is not None:
                        yield name, _finish(chunks, upper, check, path, name, allow_empty, header_line)
                    name, chunks, seen = (line[1:].split() or [f"record{line_no}"])[0], [], True
                    header_line = line_no
                elif line.startswith(";"):
                    continue
                elif name is None:
                    raise ChromseqError(f"{path}: line {line_no}: sequence before the first '>' header; not a FASTA file")
                else:
                    chunks.append(line)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ChromseqError(f"{path}: cannot read FASTA ({exc})") from exc
    if name is not None:
        yield name, _finish(chunks, upper, check, path, name, allow_empty, header_line)
    if not seen:
        raise ChromseqError(f"{path}: no FASTA records found")


def _finish(chunks: list[str], upper: bool, check: bool, path: Path, name: str, allow_empty: bool = True,
            line_no: int = 0) -> str:
    seq = "".join(chunks)
    if not seq and not allow_empty:
        raise ChromseqError(f"{path}: line {line_no}: record {name} has no sequence (0 bp)")
    if check:
        check_sequence(seq, f"{path}: record {name}")
    return seq.upper() if upper else seq


def _is_plain_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(16)
    # BGZF blocks carry the 'BC' extra subfield; plain gzip does not.
    return head[:2] == b"\x1f\x8b" and not (len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC")


def _decompressed_copy(path: Path) -> Path:
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_dir() / "genomes" / f"{path.name.removesuffix('.gz')}.{key}.fa"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        try:
            with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            tmp.unlink(missing_ok=True)
            raise ChromseqError(f"{path}: corrupt or truncated gzip data ({exc}); the file is damaged "
                                "or was not fully written") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, target)
    return target


class Genome:
    """Random access to a FASTA genome by contig and 0-based half-open coordinates.

    >>> g = Genome("ref.fa")            # doctest: +SKIP
    >>> g.fetch("chr1", 999, 1001)      # 'AC', padded with N outside the contig
    """

    def __init__(self, path: str | os.PathLike):
        import pyfaidx

        self.path = Path(path)
        if not self.path.exists():
            raise ChromseqError(f"{self.path}: file not found")
        source = _decompressed_copy(self.path) if _is_plain_gzip(self.path) else self.path
        index = source.with_name(source.name + ".fai")
        kwargs = {}
        if not index.exists() and not os.access(source.parent, os.W_OK):
            kwargs["indexname"] = str(cache_dir() / "fai" / (source.name + ".fai"))
            Path(kwargs["indexname"]).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fasta = pyfaidx.Fasta(str(source), as_raw=True, sequence_always_upper=True,
                                        read_long_names=False, rebuild=False, **kwargs)
        except Exception as exc:  # pyfaidx raises several types for malformed files
            raise ChromseqError(f"{self.path}: cannot index FASTA ({exc})") from exc
        self.contigs: dict[str, int] = {name: len(rec) for name, rec in self._fasta.records.items()}
        if not self.contigs:
            raise ChromseqError(f"{self.path}: no FASTA records found")

    def resolve(self, chrom: str) -> str | None:
        """The genome's name for ``chrom``, reconciling ``chr1`` vs ``1`` and ``chrM`` vs ``MT``."""
        if chrom in self.contigs:
            return chrom
        candidates = [chrom[3:]] if chrom.startswith("chr") else [f"chr{chrom}"]
        if chrom in ("chrM", "M"):
            candidates += ["MT", "chrMT"]
        if chrom in ("MT", "chrMT"):
            candidates += ["chrM", "M"]
        return next((c for c in candidates if c in self.contigs), None)

    def fetch(self, chrom: str, start: int, end: int, *, pad: bool = True) -> str:
        """Upper-case sequence of ``chrom[start:end]``; outside the contig N when ``pad``, else raise."""
        name = self.resolve(chrom)
        if name is None:
            raise ChromseqError(f"{self.path}: contig {chrom!r} not in the genome")
        length = self.contigs[name]
        if not pad and (start < 0 or end > length):
            raise ChromseqError(f"{chrom}:{start}-{end} runs off the contig (length {length})")
        lo, hi = max(start, 0), min(end, length)
        seq = str(self._fasta[name][lo:hi]) if hi > lo else ""
        left = max(0, min(lo, end) - start)
        return "N" * left + seq + "N" * (end - start - left - len(seq))

    def __enter__(self) -> Genome:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._fasta.close()
