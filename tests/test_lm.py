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


def _constant_lm(probs):
    """A 1-unit SimpleRNN LM whose next-base distribution is ``probs`` whatever the input (zero weights, bias log p)."""
    from chromseq.lm.model import build_lm

    model = build_lm("simple", units=1, layers=1, embedding_dim=1)
    head = model.get_layer("next_base")
    head.set_weights([np.zeros((1, 4), np.float32), np.log(np.asarray(probs, np.float32))])
    return model


def test_compiled_sampler_draws_the_next_base_distribution():
    from chromseq.lm.sample import sample_compiled

    probs = np.array([0.5, 0.25, 0.125, 0.125])
    n = 4000
    for temperature in (1.0, 0.5):
        expected = probs ** (1 / temperature) / (probs ** (1 / temperature)).sum()  # T=0.5: 16/22, 4/22, 1/22, 1/22
        seq = sample_compiled(_constant_lm(probs), n, temperature=temperature, seed=7, chunk=1500, progress=False)
        assert len(seq) == n and set(seq) <= set("ACGT")
        freq = np.array([seq.count(b) for b in "ACGT"]) / n
        se = np.sqrt(expected * (1 - expected) / n)  # binomial standard error of each frequency
        assert (np.abs(freq - expected) < 4.5 * se).all(), (temperature, freq, expected)
    # seeded: the same sequence however it is cut into chunks
    model = _constant_lm(probs)
    assert sample_compiled(model, 300, seed=3, chunk=64, progress=False) == \
        sample_compiled(model, 300, seed=3, chunk=1000, progress=False)
    assert sample_compiled(model, 300, seed=4, progress=False) != sample_compiled(model, 300, seed=3, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["gru", "lstm", "cwrnn"])
def test_compiled_greedy_sampling_matches_the_per_base_model_calls(cell):
    import keras

    from chromseq.lm.model import build_lm
    from chromseq.lm.sample import sample_compiled, sample_windowed

    keras.utils.set_random_seed(1)
    model = build_lm(cell, units=8, layers=2, embedding_dim=4)
    for layer in model.layers:  # larger weights: a sequence that depends on its context
        layer.set_weights([w * 3 for w in layer.get_weights()])
    prime = "ACGTTGCA"
    fast = sample_compiled(model, 30, prime=prime, greedy=True, progress=False)
    slow = sample_windowed(model, 30, context=100, prime=prime, greedy=True)
    assert fast == slow
    assert cell != "gru" or len(set(fast)) > 1  # not a constant run: the state matters
