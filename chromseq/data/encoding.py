"""One-hot encoding, decoding and reverse complements, for any base order.

DeepSEA's .mat files use the channel order A, G, C, T; most other tools use A, C, G, T.
The alphabet is therefore a property of each dataset and is passed explicitly everywhere:
the functions that map letters to channels (``one_hot``, ``encode_indices``, ``decode``,
``reverse_complement``) have no default alphabet, because a wrong one gives plausible but
wrong predictions (a DeepSEA-layout model fed ACGT one-hot moves by up to 0.47). Take it from
the data or the model: ``open_dataset(...).alphabet``, a run's ``dataset.json``
(``chromseq.runs.read_run_info(run).alphabet``); ``DEEPSEA_ALPHABET`` is ``"AGCT"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from chromseq.errors import ChromseqError

DEEPSEA_ALPHABET = "AGCT"
ACGT = "ACGT"
_COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}
# IUPAC ambiguity codes accepted in sequences; they encode as N (all-zero rows by default).
IUPAC = "NRYKMSWBDHV"


def check_alphabet(alphabet: str) -> str:
    """Return ``alphabet`` upper-cased if it is a permutation of ACGT, else raise."""
    alphabet = alphabet.upper()
    if sorted(alphabet) != sorted(ACGT):
        raise ChromseqError(f"alphabet {alphabet!r} is not a permutation of ACGT")
    return alphabet


def _lookup(alphabet: str) -> np.ndarray:
    table = np.full(256, -1, dtype=np.int8)
    for i, base in enumerate(alphabet):
        table[ord(base)] = i
        table[ord(base.lower())] = i
    for code in IUPAC:
        table[ord(code)] = 4
        table[ord(code.lower())] = 4
    return table


def encode_indices(seq: str | bytes, alphabet: str, *, strict: bool = True) -> np.ndarray:
    """Map a sequence of length L to base indices (L,) uint8 in ``alphabet`` order (0..3), 4 for N/IUPAC codes.

    With ``strict`` a character that is neither a base nor an IUPAC code raises.
    """
    raw = np.frombuffer(seq.encode("ascii", "replace") if isinstance(seq, str) else seq, np.uint8)
    idx = _lookup(check_alphabet(alphabet))[raw]
    if strict and (idx < 0).any():
        pos = int(np.argmax(idx < 0))
        raise ChromseqError(f"invalid character {chr(raw[pos])!r} at position {pos} (expected ACGT, N or IUPAC codes)")
    idx[idx < 0] = 4
    return idx.astype(np.uint8)


def one_hot(
    seqs: str | Sequence[str],
    alphabet: str,
    *,
    dtype: np.dtype | type = np.uint8,
    n_value: float = 0.0,
    strict: bool = True,
) -> np.ndarray:
    """One-hot encode one sequence -> (L, 4) or N equal-length sequences -> (N, L, 4).

    ``alphabet`` is required: the channel order of the model or data the array is for,
    ``"AGCT"`` for DeepSEA-layout data and every model trained on it (chromseq's default
    layout), ``"ACGT"`` for most other tools. Use the dataset's or the run's ``.alphabet``.
    Channel ``i`` is base ``alphabet[i]``; N and IUPAC codes become rows of ``n_value``
    (0 like DeepSEA by default; 0.25 is the other common choice). Lower case is accepted;
    ``strict=False`` turns any other character into N instead of raising.

    >>> one_hot("ACGN", "AGCT").tolist()
    [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    """
    single = isinstance(seqs, str)
    batch = [seqs] if single else list(seqs)
    if not batch:
        return np.zeros((0, 0, 4), dtype=dtype)
    lengths = {len(s) for s in batch}
    if len(lengths) != 1:
        raise ChromseqError(f"sequences have different lengths {sorted(lengths)[:5]}; pad or crop them first")
    idx = np.stack([encode_indices(s, alphabet, strict=strict) for s in batch])
    out = indices_to_one_hot(idx, dtype=dtype, n_value=n_value)
    return out[0] if single else out


def indices_to_one_hot(idx: np.ndarray, *, dtype: np.dtype | type = np.uint8, n_value: float = 0.0) -> np.ndarray:
    """Base indices (..., L) with 4 for N -> one-hot (..., L, 4)."""
    eye = np.vstack([np.eye(4), np.full((1, 4), n_value)]).astype(dtype)
    return eye[idx]


def decode(x: np.ndarray, alphabet: str) -> str | list[str]:
    """One-hot (L, 4) -> string, or (N, L, 4) -> list of strings, channels in ``alphabet`` order
    (required, as for ``one_hot``); all-zero or ambiguous rows -> N."""
    alphabet = check_alphabet(alphabet)
    arr = np.asarray(x)
    letters = np.frombuffer((alphabet + "N").encode(), np.uint8)
    idx = arr.argmax(-1)
    ambiguous = arr.max(-1) <= 0.5 if arr.dtype.kind == "f" else arr.max(-1) == 0
    idx = np.where(ambiguous | (arr.sum(-1) > 1.5), 4, idx)
    chars = letters[idx]
    if arr.ndim == 2:
        return chars.tobytes().decode()
    return [row.tobytes().decode() for row in chars]


def complement_permutation(alphabet: str) -> np.ndarray:
    """Channel permutation that complements a one-hot array in ``alphabet`` order."""
    alphabet = check_alphabet(alphabet)
    return np.array([alphabet.index(_COMPLEMENT[b]) for b in alphabet])


def reverse_complement(x: np.ndarray, alphabet: str) -> np.ndarray:
    """Reverse complement of one-hot (..., L, 4) in ``alphabet`` order (required: any permutation of ACGT)."""
    return np.asarray(x)[..., ::-1, :][..., complement_permutation(alphabet)]


def pack_onehot(x: np.ndarray) -> np.ndarray:
    """(n, L, 4) 0/1 -> (n, ceil(4L/8)) uint8 bit rows (N, an all-zero row, survives)."""
    return np.packbits(x.reshape(len(x), -1).astype(bool), axis=1)


def unpack_onehot(bits: np.ndarray, seq_len: int, skip: int = 0) -> np.ndarray:
    """Inverse of ``pack_onehot``: bases ``skip .. skip + seq_len`` of each packed row."""
    return np.unpackbits(bits, axis=1).reshape(len(bits), -1, 4)[:, skip : skip + seq_len]


def reverse_complement_str(seq: str) -> str:
    """Reverse complement of a sequence string; N and IUPAC codes other than ACGT become N."""
    return "".join(_COMPLEMENT.get(c, "N") for c in reversed(seq.upper()))


def convert_alphabet(x: np.ndarray, source: str, target: str) -> np.ndarray:
    """Reorder the channels of one-hot ``x`` from ``source`` base order to ``target`` order."""
    source, target = check_alphabet(source), check_alphabet(target)
    return np.asarray(x)[..., [source.index(b) for b in target]]


def center_crop(x: np.ndarray, length: int) -> np.ndarray:
    """Keep the middle ``length`` positions of (..., L, 4); raises if ``length`` exceeds L."""
    full = x.shape[-2]
    if length > full:
        raise ChromseqError(f"crop {length} is longer than the sequences ({full} bp)")
    start = (full - length) // 2
    return x[..., start : start + length, :]


def gc_content(seqs: Iterable[str]) -> np.ndarray:
    """Fraction of G or C among ACGT bases of each sequence."""
    out = []
    for s in seqs:
        s = s.upper()
        acgt = sum(s.count(b) for b in ACGT)
        out.append((s.count("G") + s.count("C")) / acgt if acgt else np.nan)
    return np.array(out)
