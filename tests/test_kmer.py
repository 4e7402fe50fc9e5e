import gzip

import numpy as np
import pytest
from click.testing import CliRunner

from chromseq.baseline.kmer import kmer_counts, kmer_names
from chromseq.baseline.logistic import fit_kmer_baseline
from chromseq.cli import main
from chromseq.data.deepbind import read_deepbind, with_shuffled_negatives
from chromseq.data.encoding import one_hot
from chromseq.data.shuffle import dinucleotide_counts, dinucleotide_shuffle
from chromseq.errors import ChromseqError


def test_dinucleotide_shuffle_keeps_counts_exactly_and_shuffles():
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 101)) + "NNACGCGCGTTTA"
    outs = {dinucleotide_shuffle(seq, np.random.default_rng(s)) for s in range(20)}
    assert len(outs) > 15 and seq not in outs
    for out in outs:
        assert dinucleotide_counts(out) == dinucleotide_counts(seq)
        assert out[0] == seq[0] and out[-1] == seq[-1] and sorted(out) == sorted(seq)
    assert dinucleotide_shuffle(seq, np.random.default_rng(3)) == dinucleotide_shuffle(seq, np.random.default_rng(3))


def test_kmer_counts_by_hand():
    names = kmer_names()
    assert len(names) == 1364
    counts = dict(zip(names, kmer_counts(["ACTGG"])[0]))
    expected = {"A": 1, "C": 1, "G": 2, "T": 1, "AC": 1, "CT": 1, "TG": 1, "GG": 1, "ACT": 1, "CTG": 1, "TGG": 1,
                "ACTG": 1, "CTGG": 1, "ACTGG": 1}
    assert {k: v for k, v in counts.items() if v} == expected
    x = one_hot(["ACTGG", "ACNGG"], "AGCT")
    both = kmer_counts(x, alphabet="AGCT")
    np.testing.assert_array_equal(both[0], kmer_counts(["ACTGG"])[0])
    assert dict(zip(names, both[1]))["CN" if False else "AC"] == 1 and sum(both[1][4:20]) == 2  # N breaks k-mers


def test_logistic_baseline_learns_a_planted_kmer():
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(400)]
    y = np.zeros((400, 2), np.uint8)
    for i in range(0, 400, 2):
        seqs[i] = seqs[i][:20] + "GGGGGGGG" + seqs[i][28:]
        y[i, 0] = 1
    y[:, 1] = rng.random(400) < 0.5
    model = fit_kmer_baseline(kmer_counts(seqs[:300]), y[:300], verbose=False)
    p = model.predict(kmer_counts(seqs[300:]))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y[300:, 0], p[:, 0]) > 0.95 and roc_auc_score(y[300:, 1], p[:, 1]) < 0.75


def _fold(path, rows, header="FoldID\tEventID\tseq\tBound"):
    with gzip.open(path, "wt") as fh:
        fh.write(header + "\n" + "".join(f"A\tseq{i}\t{s}\t{b}\n" for i, (s, b) in enumerate(rows)))
    return path


def test_deepbind_reader_and_errors(tmp_path):
    data = read_deepbind(_fold(tmp_path / "x_AC.seq.gz", [("ACGTACGTAA", 1), ("TTGGCCAANA", 1)]))
    assert data.seqs[1] == "TTGGCCAANA" and data.labels.tolist() == [1, 1]
    both = with_shuffled_negatives(data, seed=0)
    assert both.labels.tolist() == [1, 1, 0, 0] and both.ids[2] == "seq0_shuf"
    assert dinucleotide_counts(both.seqs[2]) == dinucleotide_counts(both.seqs[0])
    with pytest.raises(ChromseqError, match="not the DeepBind header"):
        read_deepbind(_fold(tmp_path / "h.gz", [("ACGT", 1)], header="a\tb\tc\td"))
    with pytest.raises(ChromseqError, match="outside ACGTN"):
        read_deepbind(_fold(tmp_path / "c.gz", [("ACXT", 1)]))
    with pytest.raises(ChromseqError, match="unequal length"):
        read_deepbind(_fold(tmp_path / "u.gz", [("ACGT", 1), ("ACGTA", 1)]))
    assert read_deepbind(tmp_path / "u.gz", length=4).seqs == ["ACGT", "ACGT"]
    with pytest.raises(ChromseqError, match="no positive"):
        with_shuffled_negatives(read_deepbind(_fold(tmp_path / "n.gz", [("ACGT", 0)])))


def test_real_deepbind_folds(shared_data):
    train = read_deepbind(shared_data / "deepbind_encode" / "train" / "GATA3_SH-SY5Y_GATA3_SC-269_USC_AC.seq.gz")
    test = read_deepbind(shared_data / "deepbind_encode" / "test" / "GATA3_SH-SY5Y_GATA3_SC-269_USC_B.seq.gz")
    assert train.labels.all() and len(train.seqs[0]) == 101
    assert test.labels.sum() == 500 and len(test) == 1000


def test_kmer_and_compare_cli_on_a_synthetic_bundle(tmp_path):
    from chromseq.data.synth import write_bundle

    write_bundle(tmp_path / "b", n_train=300, n_valid=60, n_test=200, length=120, n_features=6, seed=0)
    out = tmp_path / "kmer"
    result = CliRunner().invoke(main, ["baseline", "kmer", "--data", str(tmp_path / "b" / "train.mat"), "--out",
                                       str(out), "--block-size", "128"])
    assert result.exit_code == 0, result.output
    assert (out / "model.npz").exists() and "mean F1" in result.output and "300 training samples" in result.output
    assert not [p for p in out.iterdir() if p.name.startswith(".kmer-counts")]  # the count cache is removed
    import json

    from chromseq.baseline.logistic import KmerBaseline

    fit = json.loads((out / "summary.json").read_text())["fit"]
    assert fit["passes"] >= fit["iterations"] >= 1 and KmerBaseline.load(out / "model.npz").coef.shape == (1364, 6)
    for bad, says in ((["--C", "0"], "--C"), (["--test", str(tmp_path / "none.mat")], "none.mat")):
        result = CliRunner().invoke(main, ["baseline", "kmer", "--data", str(tmp_path / "b" / "train.mat"), "--out",
                                           str(tmp_path / "k2"), *bad])
        assert result.exit_code != 0 and says in result.output and "Traceback" not in result.output
    rows = (out / "performance.tsv").read_text().splitlines()
    assert len(rows) == 7 and "f1" in rows[0] and "best_f1" in rows[0]
    # a "network" whose table is the baseline's own: never better
    (tmp_path / "run" / "eval" / "test").mkdir(parents=True)
    (tmp_path / "run" / "eval" / "test" / "performance.tsv").write_text((out / "performance.tsv").read_text())
    result = CliRunner().invoke(main, ["compare", "--run", str(tmp_path / "run"), "--baseline", str(out),
                                       "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert "better than the baseline on 0.0%" in result.output and (tmp_path / "cmp" / "f1_scatter.png").exists()


def test_tfbs_train_and_eval_learn_planted_sites_on_both_strands(tmp_path):
    """Bound sequences carry a site on either strand; shuffles break it. CNN and k-mer both find it.

    Two TFs trained side by side (--jobs 2) land in one table.
    """
    from chromseq.data.encoding import reverse_complement_str
    from chromseq.data.shuffle import dinucleotide_shuffle

    rng = np.random.default_rng(0)

    def bound(n, site):
        out = []
        for _ in range(n):
            s = list(rng.choice(list("ACGT"), 40))
            at = rng.integers(0, 40 - len(site))
            s[at : at + len(site)] = site if rng.random() < 0.5 else reverse_complement_str(site)
            out.append("".join(s))
        return out

    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    for tf, site in (("GATA_X", "GATAAG"), ("CTCF_Y", "CCGCGNGG".replace("N", "A"))):
        _fold(tmp_path / "train" / f"{tf}_AC.seq.gz", [(s, 1) for s in bound(600, site)])
        rows = [(s, 1) for s in bound(100, site)] + [(dinucleotide_shuffle(s, rng), 0) for s in bound(100, site)]
        _fold(tmp_path / "test" / f"{tf}_B.seq.gz", rows)
    out = tmp_path / "tfbs"
    res = CliRunner().invoke(main, ["tfbs", "train", "--dir", str(tmp_path), "--model", "demo_cnn", "--epochs", "4",
                                    "--jobs", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [r.split("\t") for r in (out / "results.tsv").read_text().splitlines()]
    assert rows[0][:5] == ["tf", "model", "auroc", "auprc", "f1"] and len(rows) == 5
    table = [r.split("\t") for r in (out / "auroc_table.tsv").read_text().splitlines()]
    assert table[0] == ["tf", "kmer_logistic", "demo_cnn"] and [r[0] for r in table[1:]] == ["CTCF_Y", "GATA_X"]
    assert all(float(v) > 0.8 for r in table[1:] for v in r[1:])
    gata = {r[1]: dict(zip(rows[0], r)) for r in rows[1:] if r[0] == "GATA_X"}
    assert float(gata["demo_cnn"]["auroc"]) > 0.9
    assert gata["demo_cnn"]["train_sequences"] == "1080"  # 90 % of 600 pairs, before the second strand
    res = CliRunner().invoke(main, ["tfbs", "eval", "--run", str(out / "GATA_X" / "demo_cnn"), "--data",
                                    str(tmp_path / "test" / "GATA_X_B.seq.gz")])
    assert res.exit_code == 0 and f"AUROC {float(gata['demo_cnn']['auroc']):.4f}" in res.output, res.output
