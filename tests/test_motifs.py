import numpy as np
import pytest

from chromseq.data.motifs import Motif, read_motifs, write_meme
from chromseq.errors import ChromseqError


def test_meme_round_trip(tmp_path):
    pwm = np.array([[0.7, 0.1, 0.1, 0.1], [0, 0, 1, 0], [0.25] * 4])
    write_meme(tmp_path / "m.meme", [Motif("M1", "GATA", pwm), Motif("M2", "x", pwm[::-1])])
    back = read_motifs(tmp_path / "m.meme")
    assert [m.id for m in back] == ["M1", "M2"] and back[0].name == "GATA"
    np.testing.assert_allclose(back[0].pwm, pwm, atol=1e-6)
    assert back[0].consensus() == "AGA"


def test_real_jaspar_transfac(shared_data):
    motifs = read_motifs(shared_data / "motifs" / "jaspar2024_core.transfac.gz")
    assert len(motifs) == 2346
    ctcf = next(m for m in motifs if m.id == "MA0139.2")
    assert ctcf.name == "CTCF" and np.allclose(ctcf.pwm.sum(1), 1)
    agl3 = next(m for m in motifs if m.id == "MA0001.3")
    assert agl3.consensus().startswith("CCA")


def test_bad_motif_files_name_the_line(tmp_path):
    (tmp_path / "a.meme").write_text("MEME version 4\n\nMOTIF X\nletter-probability matrix: w= 2\n0.5 0.5 0 0\n0.1 oops 0 0\n")
    with pytest.raises(ChromseqError, match="line 6"):
        read_motifs(tmp_path / "a.meme")
    (tmp_path / "b.txt").write_text("hello\n")
    with pytest.raises(ChromseqError, match="not a MEME"):
        read_motifs(tmp_path / "b.txt")
