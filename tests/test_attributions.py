"""Signed attributions on toy models with hand-set weights: exact answers, summation-to-delta, ISM."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from toy_models import MOTIF, dyadic, flatten_dense, motif_scanner, onehot

from chromseq.data.encoding import decode
from chromseq.data.shuffle import dinucleotide_counts
from chromseq.errors import ChromseqError
from chromseq.interpret import in_silico_mutagenesis, saliency_map
from chromseq.interpret.attributions import (
    attributions,
    deep_lift_shap,
    deeplift_supported,
    gradient_x_input,
    hypothetical_contributions,
    integrated_gradients,
    shuffled_references,
)


def _random_seqs(rng, n: int, length: int) -> list[str]:
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(1)
    weights, bias = dyadic(rng, (12, 4, 2)), dyadic(rng, (2,))
    return flatten_dense(weights, bias), weights


def test_gradient_x_input_of_a_linear_model_is_w_times_x(linear):
    toy, w = linear
    x = onehot(_random_seqs(np.random.default_rng(2), 5, 12)).astype(np.float32)
    att = gradient_x_input(toy.model, x, 1, batch_size=2)
    assert att.method == "grad_x_input" and att.delta is None
    np.testing.assert_array_equal(att.contributions, (x * w[None, :, :, 1]).astype(np.float32))
    np.testing.assert_array_equal(att.hypothetical, np.broadcast_to(w[:, :, 1], x.shape).astype(np.float32))
    # the unsigned saliency is the magnitude of the same numbers
    np.testing.assert_array_equal(saliency_map(toy.model, x, 1), np.abs(att.contributions))


@pytest.mark.parametrize("rule", ["trapezoid", "midpoint", "left", "right"])
def test_integrated_gradients_of_a_linear_model_are_exact(linear, rule):
    toy, w = linear
    rng = np.random.default_rng(3)
    x = onehot(_random_seqs(rng, 4, 12)).astype(np.float32)
    att = integrated_gradients(toy.model, x, 0, batch_size=16, steps=7, rule=rule)
    np.testing.assert_array_equal(att.contributions, (x * w[None, :, :, 0]).astype(np.float32))
    baseline = onehot(_random_seqs(rng, 1, 12)[0]).astype(np.float32)  # one reference for every sequence
    att = integrated_gradients(toy.model, x, 0, batch_size=5, steps=3, rule=rule, baseline=baseline)
    np.testing.assert_array_equal(att.contributions, ((x - baseline) * w[None, :, :, 0]).astype(np.float32))
    # hypothetical contributions: base b at l against the baseline's base there
    expected = w[:, :, 0] - (baseline * w[:, :, 0]).sum(-1, keepdims=True)
    np.testing.assert_array_equal(att.hypothetical, np.broadcast_to(expected, x.shape).astype(np.float32))
    if rule == "trapezoid":  # completeness is exact for a linear model
        np.testing.assert_allclose(att.delta, 0, atol=1e-5)


def test_integrated_gradients_completeness_improves_with_steps():
    toy = motif_scanner(bias=-6.0)  # a partly matching window turns on midway along the path
    rng = np.random.default_rng(4)
    seqs = [s[:10] + MOTIF + s[20:] for s in _random_seqs(rng, 3, 32)]
    x = onehot(seqs).astype(np.float32)
    gap = toy.logits(x)[:, 0] - toy.logits(np.zeros_like(x))[:, 0]
    errors = [np.abs(integrated_gradients(toy.model, x, 0, steps=s).delta).max() for s in (2, 8, 256)]
    assert errors[0] > errors[-1] and errors[1] > errors[-1]
    assert errors[-1] < 0.01 * np.abs(gap).min()


def _relu_network():
    """Conv1D(3 filters, width 2, ReLU) -> Flatten -> Dense(2, "logits") -> sigmoid, dyadic weights."""
    rng = np.random.default_rng(5)
    conv_w, conv_b = dyadic(rng, (2, 4, 3)), dyadic(rng, (3,))
    dense_w, dense_b = dyadic(rng, (5 * 3, 2)), dyadic(rng, (2,))
    inputs = keras.Input((6, 4))
    conv = keras.layers.Conv1D(3, 2, activation="relu", name="conv")
    dense = keras.layers.Dense(2, name="logits")
    out = keras.layers.Activation("sigmoid")(dense(keras.layers.Flatten()(conv(inputs))))
    model = keras.Model(inputs, out)
    conv.set_weights([conv_w.astype("float32"), conv_b.astype("float32")])
    dense.set_weights([dense_w.astype("float32"), dense_b.astype("float32")])
    return model, conv_w, conv_b, dense_w, dense_b


def _preactivations(x, conv_w, conv_b):
    return np.stack([np.einsum("nwc,wcf->nf", x[:, p:p + 2], conv_w) for p in range(5)], 1) + conv_b


def test_deeplift_matches_hand_computed_multipliers_and_sums_to_delta():
    model, conv_w, conv_b, dense_w, dense_b = _relu_network()
    rng = np.random.default_rng(6)
    x = onehot(_random_seqs(rng, 3, 6))
    refs = np.stack([onehot(_random_seqs(rng, 4, 6)) for _ in range(3)])  # (N, S, L, 4)
    feature = 1
    att = deep_lift_shap(model, x, feature, batch_size=4, alphabet="AGCT", references=refs)
    assert att.rule.startswith("DeepLIFT rescale rule")

    # by hand: a ReLU unit's multiplier is (relu(z) - relu(z')) / (z - z'), its gradient when z == z'
    expected = np.zeros(x.shape)
    hypothetical = np.zeros(x.shape)
    for s in range(refs.shape[1]):
        r = refs[:, s]
        z, zr = _preactivations(x, conv_w, conv_b), _preactivations(r, conv_w, conv_b)
        dz = z - zr
        m = np.where(dz != 0, (np.maximum(z, 0) - np.maximum(zr, 0)) / np.where(dz != 0, dz, 1), z > 0)
        upstream = m * dense_w[:, feature].reshape(5, 3)  # d logit / d z, (N, 5, 3)
        mult = np.zeros(x.shape)
        for p in range(5):
            mult[:, p:p + 2] += np.einsum("nf,wcf->nwc", upstream[:, p], conv_w)
        expected += (x - r) * mult / refs.shape[1]
        hypothetical += hypothetical_contributions(mult, r) / refs.shape[1]
    np.testing.assert_allclose(att.contributions, expected, atol=1e-6)
    np.testing.assert_allclose(att.hypothetical, hypothetical, atol=1e-6)

    def logit(a):
        z = np.maximum(_preactivations(a, conv_w, conv_b), 0).reshape(len(a), -1)
        return z @ dense_w[:, feature] + dense_b[feature]

    gap = logit(x) - np.mean([logit(refs[:, s]) for s in range(refs.shape[1])], 0)
    np.testing.assert_allclose(att.contributions.sum((1, 2)), gap, atol=1e-5)
    np.testing.assert_allclose(att.delta, 0, atol=1e-5)
    # the observed base's hypothetical contribution is its contribution summed over bases
    np.testing.assert_allclose((att.hypothetical * x).sum(-1), att.contributions.sum(-1), atol=1e-6)


def test_deepshap_on_a_motif_scanner_sums_to_delta_concentrates_on_the_motif_and_agrees_with_ism():
    toy = motif_scanner()
    rng = np.random.default_rng(7)
    seqs = [s[:14] + MOTIF + s[24:] for s in _random_seqs(rng, 3, 40)]
    x = onehot(seqs).astype(np.float32)
    att = deep_lift_shap(toy.model, x, 0, alphabet="AGCT", n_shuffles=6, seed=1)
    np.testing.assert_allclose(att.delta, 0, atol=1e-5)  # max pooling keeps summation-to-delta
    per_position = att.contributions.sum(-1)
    motif = slice(14, 24)
    assert (per_position[:, motif] > 0).all()
    assert (per_position[:, motif].sum(1) >= 0.95 * np.abs(per_position).sum(1)).all()
    # a substitution inside the motif destroys the match: ISM is negative where attributions are positive
    ism = in_silico_mutagenesis(toy.model, x, 0, logits=True)  # (N, L, 4), 0 at the observed base
    mean_change = ism.sum(-1) / 3
    assert (np.sign(mean_change[:, motif]) == -np.sign(per_position[:, motif])).all()
    grad = gradient_x_input(toy.model, x, 0).contributions.sum(-1)
    assert (grad[:, motif] == 10.0).all() and (np.delete(grad, np.r_[motif], axis=1) == 0).all()


def test_deepshap_on_demo_cnn_with_max_pooling_sums_to_delta():
    from chromseq.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("demo_cnn", 48, 3, filters=8, widths=(5, 3), pool_size=2, dropout=0.0)
    assert deeplift_supported(model) == (True, "")
    x = onehot(_random_seqs(np.random.default_rng(8), 3, 48)).astype(np.float32)
    att = attributions(model, x, 2, "deepshap", alphabet="AGCT", n_shuffles=5)
    assert np.abs(att.delta).max() < 1e-4 * max(1.0, np.abs(att.contributions.sum((1, 2))).max())
    # the layers are restored: plain gradients are unchanged after DeepLIFT ran
    assert model.get_layer("conv1").activation is keras.activations.relu
    assert "call" not in vars(model.get_layer("pool1"))


@pytest.mark.slow
def test_recurrent_models_get_expected_gradients():
    from chromseq.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("gru_stack", None, 2, units=(4,))
    ok, why = deeplift_supported(model)
    assert not ok and "GRU" in why
    x = onehot(_random_seqs(np.random.default_rng(9), 2, 16)).astype(np.float32)
    att = deep_lift_shap(model, x, 1, alphabet="AGCT", n_shuffles=3, ig_steps=32)
    assert att.rule.startswith("expected gradients")
    assert np.abs(att.delta).max() < 1e-3  # completeness up to the quadrature error


def test_shuffled_references_keep_dinucleotides_and_alphabet():
    seqs = _random_seqs(np.random.default_rng(10), 2, 30)
    x = onehot(seqs, "AGCT")
    refs = shuffled_references(x, "AGCT", 3, seed=0)
    assert refs.shape == (2, 3, 30, 4) and refs.dtype == np.float32
    for i, s in enumerate(seqs):
        for r in decode(refs[i], "AGCT"):
            assert dinucleotide_counts(r) == dinucleotide_counts(s)
    np.testing.assert_array_equal(refs, shuffled_references(x, "AGCT", 3, seed=0))  # seeded


def test_bad_input_is_a_one_line_error(linear):
    toy, _ = linear
    x = onehot(_random_seqs(np.random.default_rng(11), 2, 12)).astype(np.float32)
    with pytest.raises(ChromseqError, match="feature 5 does not exist"):
        gradient_x_input(toy.model, x, 5)
    with pytest.raises(ChromseqError, match="shape"):
        gradient_x_input(toy.model, x[0], 0)
    with pytest.raises(ChromseqError, match="unknown rule"):
        integrated_gradients(toy.model, x, 0, rule="simpson")
    with pytest.raises(ChromseqError, match="baseline must be"):
        integrated_gradients(toy.model, x, 0, baseline=np.zeros((11, 4)))
    with pytest.raises(ChromseqError, match="unknown attribution method"):
        attributions(toy.model, x, 0, "lrp", alphabet="AGCT")
    with pytest.raises(ChromseqError, match="references must be"):
        deep_lift_shap(toy.model, x, 0, alphabet="AGCT", references=np.zeros((1, 2, 12, 4)))


@pytest.mark.slow
def test_interpret_attributions_cli_writes_arrays_and_figures(tmp_path):
    import h5py
    from apps_helpers import motif_run
    from click.testing import CliRunner

    from chromseq.cli import main

    motif_run(tmp_path / "run", seq_len=40, fixed_length=True)
    seqs = ["C" * 12 + MOTIF + "C" * 18, "A" * 40, "ACGT" * 5 + MOTIF + "TTGCAACGTT", "G" * 40]
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = onehot(seqs).astype(np.uint8)
        f["y"] = np.array([[1], [0], [1], [0]], np.uint8)
        f.attrs["alphabet"] = "AGCT"
    common = ["--run", str(tmp_path / "run"), "--data", str(tmp_path / "d.h5"), "--feature", "GATA1"]
    for method in ("grad_x_input", "integrated_gradients", "deepshap"):
        out = tmp_path / method
        result = CliRunner().invoke(main, ["interpret", "attributions", *common, "--method", method, "--out",
                                           str(out), "--shuffles", "4", "--ig-steps", "8"])
        assert result.exit_code == 0, result.output
        saved = np.load(out / "attributions.npz")
        np.testing.assert_array_equal(saved["samples"], [0, 2])  # the positives
        assert sorted(p.name for p in out.glob("*.png")) == ["attributions_0.png", "attributions_2.png"]
        assert str(saved["method"]) == method and saved["contributions"].shape == (2, 40, 4)
        per_position = saved["contributions"].sum(-1)
        assert (per_position[0, 12:22] > 0).all() and (per_position[1, 20:30] > 0).all()
        if method == "grad_x_input":
            assert (per_position[0, 12:22] == 10).all()
        if method == "deepshap":
            np.testing.assert_allclose(saved["delta"], 0, atol=1e-5)
    bad = CliRunner().invoke(main, ["interpret", "attributions", *common, "--method", "lrp"])
    assert bad.exit_code == 2 and "lrp" in bad.output


@pytest.mark.parametrize(("name", "params", "rule"), [
    ("demo_cnn", {"filters": 4, "widths": (5, 3)}, True),
    ("deepsea", {"conv_filters": (4, 4, 4), "conv_width": 3, "dense_units": 4}, True),
    ("danq", {"conv_filters": 4, "conv_width": 5, "lstm_units": 2, "dense_units": 4}, False),
    ("demo_cnn_rnn", {"filters": 4, "units": 2}, False),
    ("bigru", {}, False),
])
def test_which_registry_models_get_the_rescale_rule(name, params, rule):
    from chromseq.models import build_model

    model = build_model(name, 200, 2, **params)
    assert deeplift_supported(model)[0] is rule
