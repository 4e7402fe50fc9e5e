import json

import numpy as np
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data import open_dataset
from chromseq.data.build import bin_overlap
from chromseq.data.encoding import decode, reverse_complement_str


def test_half_overlap_rule_at_bin_edges():
    starts = np.array([1000, 2001, 3040, 3000])
    ends = np.array([1100, 2100, 3110, 3050])  # exactly 100 bp, 99 bp, and two overlapping unsorted peaks
    cover = bin_overlap(starts, ends, 20, 200)
    assert cover[5] == 100 and cover[10] == 99 and cover[15] == 110 and cover.sum() == 309
    labels = cover >= 0.5 * 200
    assert np.flatnonzero(labels).tolist() == [5, 15]


def test_build_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    seqs = {c: "".join(rng.choice(list("ACGT"), 6000)) for c in ("chr1", "chr8", "chr9")}
    seqs["chr1"] = seqs["chr1"][:4000] + "N" * 400 + seqs["chr1"][4400:].lower()
    (tmp_path / "g.fa").write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    peaks = tmp_path / "peaks"
    peaks.mkdir()
    (peaks / "K562|CTCF|None.bed").write_text(
        "chr1\t1000\t1100\np\nchr1\t2001\t2100\nchr1\t3040\t3110\nchr1\t3000\t3050\nchr8\t1000\t1200\n"
        "chr1\t4000\t4200\nchr1\t50\t10\nchrUn\t1\t5\n".replace("\np\n", "\n"))
    (peaks / "GM12878|H3K4me3|None.bed.gz").write_bytes(__import__("gzip").compress(b"chr9\t2000\t2400\n"))
    (peaks / "empty.narrowPeak").write_text("")
    result = CliRunner().invoke(main, ["data", "build", "--genome", str(tmp_path / "g.fa"), "--features", str(peaks),
                                       "--out", str(tmp_path / "out"), "--window", "400", "--holdout-valid", "chr9",
                                       "--holdout-test", "chr8"])
    assert result.exit_code == 0, result.output
    assert "end 10 < start 50" in result.output and "chrUn" in result.output
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    # chr1 bins 5 and 15 (+ RC); bin 20 is N-only: skipped; chr8 bin 5 -> test; chr9 bins 10, 11 -> valid
    assert m["samples"] == {"train": 4, "valid": 4, "test": 2} and m["skipped"]["too_many_n"] == 1
    train = open_dataset(tmp_path / "out" / "train.mat")
    assert train.container == "mat-v7.3" and train.n_features == 3 and train.feature_names[0] == "GM12878|H3K4me3|None"
    x, y = train.load()
    starts = {decode(x[i], "AGCT") for i in range(4)}
    chr1 = seqs["chr1"].upper()
    assert {chr1[900:1300], chr1[2900:3300]} <= starts  # windows centered on bins 5 and 15
    assert decode(x[2], "AGCT") == reverse_complement_str(decode(x[0], "AGCT"))  # each block, then its RC
    assert y[:, 1].tolist() == [1, 1, 1, 1] and y[:, 0].sum() == 0  # CTCF is column 1 (files sorted by name)
    test_ds = open_dataset(tmp_path / "out" / "test.mat")
    assert test_ds.container == "mat-v5" and decode(test_ds.load()[0][0], "AGCT") == seqs["chr8"][900:1300]
    for s in starts:  # held-out chromosomes never in train
        assert s not in seqs["chr8"] and s not in seqs["chr9"]
    assert (tmp_path / "out" / "features.tsv").exists() and m["features"][2]["positives_train"] == 0
