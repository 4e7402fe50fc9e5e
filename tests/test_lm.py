import gzip
import math

import numpy as np
import pytest
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.errors import ChromseqError
from chromseq.lm.data import load_genome, windows
from chromseq.lm.markov import markov_perplexity


def test_markov_perplexity_by_hand():
    # train "AACA": order-1 transitions A->A, A->C, C->A; test "AC": one prediction, P(C | A)
    a, c = 0, 1
    train, test = [np.array([a, a, c, a], np.uint8)], [np.array([a, c], np.uint8)]
    # add-0.5: (count(AC)=1 + 0.5) / (count(A.)=2 + 2) = 0.375
    assert markov_perplexity(train, test, 1, alpha=0.5) == pytest.approx(1 / 0.375)
    # order 0 on test "AC": P(A) = (3 + .5) / (4 + 2), P(C) = (1 + .5) / 6
    expected = math.exp(-(math.log(3.5 / 6) + math.log(1.5 / 6)) / 2)
    assert markov_perplexity(train, test, 0, alpha=0.5) == pytest.approx(expected)


def test_fasta_edge_cases_and_contiguous_split(tmp_path):
    path = tmp_path / "g.fa.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(">one\n" + "acgtnrACGT" * 20 + "\n>two\n" + "GGCC" * 50 + "\n")
    g = load_genome(path, valid_fraction=0.1, test_fraction=0.1)
    d = g.describe()
    assert d["records"] == 2 and d["n_or_iupac"] == 40 and d["bases"] == 400
    assert d["train_bases"] + d["valid_bases"] + d["test_bases"] == 400
    # the regions are contiguous and in order: concatenated they give the record back
    np.testing.assert_array_equal(np.concatenate([g.train[0], g.valid[0], g.test[0]])[:10], [0, 1, 2, 3, 4, 4, 0, 1, 2, 3])
    w = windows(g.train, 12)
    assert (w < 4).all() and w.shape[1] == 13
    (tmp_path / "empty.fa").write_text("")
    with pytest.raises(ChromseqError, match="empty"):
        load_genome(tmp_path / "empty.fa")
    (tmp_path / "n.fa").write_text(">x\nNNNNNNNN\n")
    with pytest.raises(ChromseqError, match="no valid bases"):
        load_genome(tmp_path / "n.fa")
    (tmp_path / "short.fa").write_text(">x\nACGTACGT\n")
    with pytest.raises(ChromseqError, match="shorter than one window"):
        load_genome(tmp_path / "short.fa", min_length=50)


def test_lm_cli_repeat_genome_reaches_its_target(tmp_path):
    fa = tmp_path / "repeat.fa"
    runner = CliRunner()
    assert runner.invoke(main, ["data", "genome", "--kind", "repeat", "--length", "30000", "--out", str(fa)]).exit_code == 0
    run = tmp_path / "run"
    result = runner.invoke(main, ["lm", "train", "--fasta", str(fa), "--run-dir", str(run), "--config", "configs/lm.yaml",
                                  "--set", "train.verbose=0", "--set", "train.epochs=5"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["lm", "eval", "--run", str(run), "--max-order", "4"])
    assert result.exit_code == 0, result.output
    import json

    m = json.loads((run / "metrics.json").read_text())
    assert m["perplexity"] < 1.05 and m["markov_perplexity"]["0"] > 3.5
    sample = runner.invoke(main, ["lm", "sample", "--run", str(run), "--length", "40", "--prime", "AGCTTGAGGC",
                                  "--temperature", "0.5"])
    assert sample.exit_code == 0 and "AGCTTGAGGCAGCTTGAGGC" in sample.output.replace("\n", "")
    bad = runner.invoke(main, ["lm", "train", "--fasta", str(fa), "--run-dir", str(tmp_path / "r2"),
                               "--set", "data.seq_len=5000"])
    assert bad.exit_code == 2 and "exceeds the valid region" in bad.output


@pytest.mark.slow
def test_lm_sweep_on_a_tiny_grid(tmp_path):
    fa = tmp_path / "random.fa"
    CliRunner().invoke(main, ["data", "genome", "--kind", "random", "--length", "4000", "--out", str(fa)])
    result = CliRunner().invoke(main, ["lm", "sweep", "--fasta", str(fa), "--out", str(tmp_path / "sweep"),
                                       "--cell", "gru", "--seq-len", "20", "--seq-len", "40", "--layers", "2",
                                       "--lr", "0.001", "--units", "16"])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "sweep" / "sweep.tsv").read_text().splitlines()
    assert len(rows) == 3 and (tmp_path / "sweep" / "sweep.png").exists()
