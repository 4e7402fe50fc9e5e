"""TF-MoDISco on attributions: alphabet handling, patterns, the motif table and the CLI."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from toy_models import MOTIF, onehot, revcomp

from chromseq.data.motifs import Motif
from chromseq.errors import ChromseqError
from chromseq.interpret.modisco import (
    TABLE_COLUMNS,
    Pattern,
    find_motifs,
    motif_table,
    read_motif_table,
    write_h5,
    write_motif_table,
)

SECOND = "CCACGTGACG"


def planted_attributions(alphabet: str, n: int = 400, length: int = 100, seed: int = 0):
    """Random sequences, each with MOTIF or SECOND (10 % of bases mutated), and hypothetical
    contributions that favour the motif's bases there (scaled per sequence) over small noise."""
    rng = np.random.default_rng(seed)
    seqs, where = [], []
    for i in range(n):
        s = list(rng.choice(list("ACGT"), length))
        motif = (MOTIF, SECOND)[i % 2]
        p = int(rng.integers(5, length - 15))
        for j, b in enumerate(motif):
            s[p + j] = b if rng.random() > 0.1 else rng.choice(list("ACGT"))
        seqs.append("".join(s))
        where.append((p, motif))
    x = onehot(seqs, alphabet).astype(np.float32)
    hyp = rng.normal(0, 0.05, x.shape).astype(np.float32)
    for i, (p, motif) in enumerate(where):
        target = onehot(motif, alphabet)
        hyp[i, p:p + 10] += (target - (1 - target) / 3) * rng.uniform(0.5, 1.5)
    return x, hyp


def test_pattern_trimming_motif_and_consensus_are_acgt():
    ppm = np.full((8, 4), 0.25)
    ppm[2:6] = np.eye(4)[[2, 0, 3, 1]]  # G A T C in ACGT columns
    cwm = np.zeros((8, 4))
    cwm[2:6] = ppm[2:6] * np.array([[1.0], [0.5], [2.0], [1.0]])
    cwm[0, 0] = 0.1  # below 30 % of the largest column: trimmed away
    p = Pattern("pos_patterns.pattern_0", "+", 25, ppm, cwm, cwm)
    assert p.trimmed() == slice(2, 6)
    assert p.consensus == "GATC"
    m = p.motif()
    assert isinstance(m, Motif) and m.width == 4 and np.allclose(m.pwm.sum(1), 1)


def test_motif_table_rows_use_match_fields_when_present():
    from types import SimpleNamespace

    ppm = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    patterns = [Pattern("pos_patterns.pattern_0", "+", 40, ppm, ppm, ppm),
                Pattern("neg_patterns.pattern_0", "-", 21, ppm, -ppm, -ppm)]
    full = SimpleNamespace(rank=1, target_id="MA0001.1", target_name="X", p_value=1.5e-6, e_value=3e-3,
                           q_value=2e-3, offset=-1, orientation="-", overlap=6)
    old = SimpleNamespace(target_id="MA0002.1", target_name="Y", score=0.9, offset=0, strand="+", overlap=5)
    rows = motif_table(patterns, [[full, old], []])
    assert [r["pattern"] for r in rows] == ["pos_patterns.pattern_0"] * 2 + ["neg_patterns.pattern_0"]
    assert set(rows[0]) == set(TABLE_COLUMNS)
    assert (rows[0]["rank"], rows[0]["p_value"], rows[0]["q_value"], rows[0]["orientation"]) == ("1", "1.5e-06",
                                                                                              "0.002", "-")
    assert (rows[1]["rank"], rows[1]["p_value"], rows[1]["orientation"]) == ("2", "", "+")  # older Match
    assert rows[2]["target_id"] == "" and rows[2]["sign"] == "-" and rows[2]["consensus"] == "ACGTAC"


def test_find_motifs_refuses_bad_shapes():
    x = np.zeros((3, 100, 4), np.float32)
    with pytest.raises(ChromseqError, match="same shape"):
        find_motifs(x, np.zeros((3, 100, 3)), "AGCT")
    with pytest.raises(ChromseqError, match="shorter than its window"):
        find_motifs(x[:, :30], np.zeros((3, 30, 4)), "AGCT")


@pytest.mark.slow
@pytest.mark.parametrize("alphabet", ["AGCT", "ACGT"])
def test_modisco_recovers_planted_motifs_in_acgt_whatever_the_alphabet(tmp_path, alphabet):
    x, hyp = planted_attributions(alphabet)
    result = find_motifs(x, hyp, alphabet, n_leiden_runs=2)
    assert result.n_sequences == 400
    found = {p.consensus for p in result.patterns if p.sign == "+"}
    for motif in (MOTIF, SECOND):
        assert motif in found or revcomp(motif) in found, (motif, found)
    assert all(p.n_seqlets >= 20 for p in result.patterns)
    # the pattern's sequence matrix is in ACGT order: its consensus spelled from ACGT columns
    for p in result.patterns:
        assert p.ppm.shape[1] == 4 and "".join("ACGT"[i] for i in p.ppm[p.trimmed()].argmax(1)) == p.consensus

    write_h5(tmp_path / "modisco_results.h5", result)
    with h5py.File(tmp_path / "modisco_results.h5") as h5:
        assert int(h5["pos_patterns/pattern_0/seqlets/n_seqlets"][0]) == result.patterns[0].n_seqlets
        np.testing.assert_allclose(h5["pos_patterns/pattern_0/sequence"][:], result.patterns[0].ppm)
    write_motif_table(tmp_path / "motifs.tsv", result.patterns)
    rows = read_motif_table(tmp_path / "motifs.tsv")
    assert [r["consensus"] for r in rows] == [p.consensus for p in result.patterns]


def test_interpret_modisco_cli_refuses_too_few_sequences_in_one_line(tmp_path):
    from apps_helpers import motif_run
    from click.testing import CliRunner

    from chromseq.cli import main

    motif_run(tmp_path / "run", seq_len=60, fixed_length=True)
    x, _ = planted_attributions("AGCT", n=6, length=60)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = x.astype(np.uint8)
        f["y"] = np.ones((6, 1), np.uint8)
        f.attrs["alphabet"] = "AGCT"
    out = tmp_path / "m"
    result = CliRunner().invoke(main, ["interpret", "modisco", "--run", str(tmp_path / "run"), "--data",
                                       str(tmp_path / "d.h5"), "--out", str(out), "--shuffles", "2"])
    assert result.exit_code == 2, result.output
    assert "error: modisco: no usable seqlets in 6 sequences" in result.output
    assert "Traceback" not in result.output
    saved = np.load(out / "attributions.npz")  # the attributions are kept for a rerun
    assert saved["hypothetical"].shape == (6, 60, 4) and str(saved["method"]) == "deepshap"
    assert not (out / "motifs.tsv").exists()
