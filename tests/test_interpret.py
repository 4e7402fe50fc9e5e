"""Interpretation on a model trained on planted motifs, where the truth is known."""

import json

import numpy as np
import pytest
from apps_helpers import MOTIF
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data import open_dataset
from chromseq.data.encoding import decode
from chromseq.data.motifs import read_motifs
from chromseq.data.synth import write_bundle
from chromseq.errors import ChromseqError
from chromseq.interpret import (
    class_optimization,
    compare_motifs,
    filter_motifs,
    in_silico_mutagenesis,
    saliency_map,
    temporal_scores,
)
from chromseq.interpret.filters import trim
from chromseq.runs import load_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from chromseq.training import train

    root = tmp_path_factory.mktemp("interp")
    write_bundle(root / "b", n_train=6000, n_valid=400, n_test=10, length=100, n_features=8, seed=1)
    cfg = {"name": "i", "seed": 0,
           "model": {"name": "demo_cnn", "params": {"filters": 48, "widths": [21, 5], "pool_size": 4, "dropout": 0.0}},
           "data": {"train": str(root / "b" / "train.mat"), "valid": str(root / "b" / "valid.mat")},
           "train": {"epochs": 10, "batch_size": 16, "learning_rate": 0.003, "verbose": 0,
                     "early_stopping_patience": None}}
    run = train(cfg, root / "run")
    return run, root / "b"


def _positives(bundle, model):
    x, y = open_dataset(bundle / "valid.mat").load()
    truth = json.loads((bundle / "truth.json").read_text())
    planted = np.load(bundle / "planted_valid.npz")
    widths = [len(m["pwm"]) for m in truth["motifs"]]
    pred = model.predict(x.astype("float32"), verbose=0)
    cases = []
    for f in truth["features"]:
        if f["rule"] != "motif":
            continue
        m = f["motifs"][0]
        for i in np.flatnonzero(y[:, f["index"]] & (pred[:, f["index"]] > 0.5))[:5]:
            rows = np.flatnonzero((planted["sample"] == i) & (planted["motif"] == m) & planted["center"])
            if len(rows):
                start = planted["start"][rows[0]]
                cases.append((f["index"], i, start, start + widths[m]))
    return x, cases


def _in_top_decile(importance, start, stop):
    cut = np.quantile(importance, 0.9)
    return importance[start:stop].max() >= cut


def test_saliency_and_ism_concentrate_on_planted_motifs(trained):
    run, bundle = trained
    model = load_model(run)
    x, cases = _positives(bundle, model)
    assert len(cases) >= 8
    hits_sal = hits_ism = 0
    for f, i, start, stop in cases:
        sal = saliency_map(model, x[i:i + 1], f)[0].sum(1)
        ism = np.abs(in_silico_mutagenesis(model, x[i:i + 1], f)[0]).sum(1)
        hits_sal += _in_top_decile(sal, start, stop)
        hits_ism += _in_top_decile(ism, start, stop)
    assert hits_sal / len(cases) > 0.7 and hits_ism / len(cases) > 0.7


def test_filters_recover_planted_motifs(trained):
    run, bundle = trained
    model = load_model(run)
    x, _ = open_dataset(bundle / "valid.mat").load()
    motifs, sites = filter_motifs(model, x)
    truth = read_motifs(bundle / "motifs.meme")
    planted = {f["motifs"][0] for f in json.loads((bundle / "truth.json").read_text())["features"] if f["rule"] == "motif"}
    matches = compare_motifs([trim(m) for m, s in zip(motifs, sites) if s >= 5], truth, top=1)
    recovered = {truth_i for row in matches for truth_i, t in enumerate(truth)
                 if row and row[0].target_id == t.id and row[0].score > 0.7}
    assert len(recovered & planted) >= len(planted) / 2, (recovered, planted)


def test_compare_finds_a_motif_itself_in_jaspar(shared_data):
    db = read_motifs(shared_data / "motifs" / "jaspar2024_core.transfac.gz")
    ctcf = next(m for m in db if m.id == "MA0139.2")
    best = compare_motifs([ctcf.reverse_complement()], db, top=1)[0][0]
    assert best.target_id == "MA0139.2" and best.strand == "-" and best.score == pytest.approx(1.0)


def test_temporal_scores_and_class_optimization(tmp_path, trained):
    run, _ = trained
    model = load_model(run)
    x = np.eye(4, dtype="float32")[np.random.default_rng(0).integers(0, 4, (2, 100))]
    fwd, bwd = temporal_scores(model, x, 0, step=10)
    assert fwd.shape == (2, 100) and np.isfinite(fwd[:, 99]).all() and np.isfinite(bwd[:, 0]).all()
    full = np.log(model.predict(x, verbose=0)[:, 0] / (1 - model.predict(x, verbose=0)[:, 0]))
    np.testing.assert_allclose(fwd[:, 99], full, rtol=1e-3, atol=1e-3)  # the whole prefix = the sequence
    from chromseq.models import build_model

    with pytest.raises(ChromseqError, match="saliency"):
        temporal_scores(build_model("deepsea", 200, 2), x[:, :50].repeat(4, 1), 0)
    import keras

    from chromseq.data.encoding import one_hot

    inputs = keras.Input((30, 4))
    scan = keras.layers.Conv1D(1, len(MOTIF), use_bias=False)  # linear PWM scanner: gradients everywhere
    logits = keras.layers.Dense(1, name="logits")(keras.layers.GlobalMaxPooling1D()(scan(inputs)))
    scanner = keras.Model(inputs, keras.layers.Activation("sigmoid", name="output")(logits))
    scan.set_weights([one_hot(MOTIF, "AGCT").astype("float32")[..., None]])
    _, pwm = class_optimization(scanner, 0, 30, steps=300)
    consensus = decode(np.eye(4)[pwm.argmax(1)], "AGCT")
    from chromseq.data.encoding import reverse_complement_str

    assert MOTIF in consensus or reverse_complement_str(MOTIF) in consensus


def test_interpret_cli_methods_and_errors(trained, tmp_path):
    run, bundle = trained
    for method in ("saliency", "ism", "temporal"):
        out = tmp_path / method
        result = CliRunner().invoke(main, ["interpret", method, "--run", str(run), "--feature", "CTCF",
                                           "--samples", "1", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert list(out.glob("*.png")) and list(out.glob("*.npz"))
    result = CliRunner().invoke(main, ["interpret", "filters", "--run", str(run), "--out", str(tmp_path / "f"),
                                       "--motif-db", str(bundle / "motifs.meme")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "f" / "filters.meme").exists() and (tmp_path / "f" / "matches.tsv").exists()
    assert read_motifs(tmp_path / "f" / "filters.meme")
    bad = CliRunner().invoke(main, ["interpret", "saliency", "--run", str(run), "--feature", "99"])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    bad = CliRunner().invoke(main, ["interpret", "saliency", "--run", str(run), "--feature", "NOSUCHTF"])
    assert bad.exit_code == 2 and "no feature matches" in bad.output
