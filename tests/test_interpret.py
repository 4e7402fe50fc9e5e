"""Interpretation methods on toy models with hand-set weights, every number checked against NumPy.

A Flatten -> Dense model is linear in its input (logit gradient = the weights, a substitution moves
the logit by a difference of two weights); the motif scanner's gradient is the motif kernel at its
one match; the per-base pooling models score any prefix or suffix by a sum or a max. Weights are
multiples of 1/4, so logits and logit gradients are exact in float32 on any CPU; probabilities
come from a float32 sigmoid and are compared to PROB_ATOL (see toy_models).
"""

import numpy as np
import pytest
from apps_helpers import motif_run
from click.testing import CliRunner
from toy_models import (
    MOTIF,
    PROB_ATOL,
    dyadic,
    flatten_dense,
    motif_scanner,
    onehot,
    per_base_pooling,
    revcomp,
    scan_activations,
    sigmoid,
)

from chromseq.cli import main
from chromseq.data.motifs import read_motifs
from chromseq.errors import ChromseqError
from chromseq.interpret import (
    class_optimization,
    filter_motifs,
    in_silico_mutagenesis,
    saliency_map,
    temporal_scores,
)
from chromseq.interpret.filters import information_content


def _random_onehot(rng, n, length, n_rows=()):
    x = np.eye(4)[rng.integers(0, 4, (n, length))]
    for i, pos in n_rows:
        x[i, pos] = 0  # an N
    return x


def _linear(seed=0, length=12, k=3):
    """A Flatten -> Dense toy, its weights (L, 4, K) and the generator for inputs."""
    rng = np.random.default_rng(seed)
    w = dyadic(rng, (length, 4, k))
    return flatten_dense(w, dyadic(rng, k)), w, rng


# --- saliency ---------------------------------------------------------------------------------------

def test_saliency_of_a_linear_model_is_the_weights_on_the_observed_bases():
    toy, w, rng = _linear()
    x = _random_onehot(rng, 5, 12, n_rows=[(1, 3), (4, 0)])
    for f in range(3):
        expected = np.abs(w[:, :, f]) * x  # d logit_f / dx = w[..., f] everywhere
        for batch_size in (2, 256):
            np.testing.assert_array_equal(saliency_map(toy.model, x, f, batch_size), expected)
    p = toy.outputs(x)[:, 1]
    prob_sal = saliency_map(toy.model, x, 1, logits=False)  # d sigmoid / dz = p (1 - p)
    np.testing.assert_allclose(prob_sal, (p * (1 - p))[:, None, None] * np.abs(w[:, :, 1]) * x,
                               rtol=0, atol=2 * PROB_ATOL * np.abs(w).max())
    assert saliency_map(toy.model, x[:0], 0).shape == (0, 12, 4)


def test_saliency_of_the_motif_scanner_is_the_kernel_at_the_match():
    toy = motif_scanner(MOTIF)
    seqs = ["C" * 7 + MOTIF + "C" * 13, "C" * 15 + revcomp(MOTIF) + "C" * 5, "C" * 30]
    x = onehot(seqs)
    acts = scan_activations(x, toy.kernel, toy.scan_bias)  # (N, P, 2)
    expected = np.zeros_like(x)
    for n in range(len(x)):
        for f in range(2):
            if acts[n, :, f].max() > 0:  # ReLU' = 1 and the maximum is unique: gradient 10 x kernel
                (start,) = np.flatnonzero(acts[n, :, f] == acts[n, :, f].max())
                expected[n, start:start + len(MOTIF)] += 10 * toy.kernel[:, :, f]
    expected = np.abs(expected) * x
    assert expected[0].sum() == expected[1].sum() == 10 * len(MOTIF) and not expected[2].any()
    np.testing.assert_array_equal(saliency_map(toy.model, x, 0), expected)


# --- in-silico mutagenesis ------------------------------------------------------------------------

def _ism_by_hand(toy, x, positions, logits):
    """Every mutant scored one at a time in float64."""
    score = toy.logits if logits else toy.outputs
    out = np.zeros((len(x), len(positions), 4, toy.model.output_shape[-1]))
    for n in range(len(x)):
        ref = score(x[n:n + 1])[0]
        for i, p in enumerate(positions):
            for b in range(4):
                if x[n, p, b] == 1:
                    continue  # the reference base: 0
                mutant = x[n].copy()
                mutant[p] = np.eye(4)[b]
                out[n, i, b] = score(mutant[None])[0] - ref
    return out


def test_ism_of_a_linear_model_is_a_difference_of_weights():
    toy, w, rng = _linear(seed=1)
    x = _random_onehot(rng, 3, 12, n_rows=[(2, 5)])  # an N: all four bases are changes
    logit_ism = in_silico_mutagenesis(toy.model, x, None, batch_size=7, logits=True)  # (N, L, 4, K)
    np.testing.assert_array_equal(logit_ism, _ism_by_hand(toy, x, range(12), logits=True))
    ref = (x * w[..., 0]).sum(-1)  # the reference base's weight at each position (0 at N)
    np.testing.assert_array_equal(logit_ism[..., 0], (w[None, :, :, 0] - ref[..., None]) * (1 - x))
    positions = [0, 5, 11]
    prob_ism = in_silico_mutagenesis(toy.model, x, 2, batch_size=5, positions=positions)
    assert prob_ism.shape == (3, 3, 4)
    np.testing.assert_allclose(prob_ism, _ism_by_hand(toy, x, positions, logits=False)[..., 2], rtol=0,
                               atol=2 * PROB_ATOL)
    assert (prob_ism[x[:, positions] == 1] == 0).all()  # exactly 0 at the reference base


def test_ism_of_the_motif_scanner_breaks_the_motif_at_every_base():
    toy = motif_scanner(MOTIF)
    x = onehot(["C" * 6 + MOTIF + "C" * 8])
    ism = in_silico_mutagenesis(toy.model, x, 0)[0]
    expected = np.zeros((24, 4))
    expected[6:16] = (sigmoid(-5) - sigmoid(5)) * (1 - x[0, 6:16])  # any change in the motif loses the match
    np.testing.assert_allclose(ism, expected, rtol=0, atol=2 * PROB_ATOL)
    np.testing.assert_allclose(ism, _ism_by_hand(toy, x, range(24), logits=False)[0, ..., 0], rtol=0,
                               atol=2 * PROB_ATOL)


# --- temporal output scores ------------------------------------------------------------------------

def _pooling_toy(seed, seq_len, pool):
    rng = np.random.default_rng(seed)
    return per_base_pooling(dyadic(rng, (4, 2)), dyadic(rng, 2), dyadic(rng, (2, 2)), dyadic(rng, 2),
                            seq_len=seq_len, pool=pool), rng


@pytest.mark.parametrize("step", [1, 5])
def test_temporal_scores_of_a_fixed_length_model_mask_the_rest_with_n(step):
    length = 32  # a power of 2: the average pooling divides exactly
    toy, rng = _pooling_toy(2, length, "avg")
    x = _random_onehot(rng, 3, length, n_rows=[(0, 7)])
    points = sorted(set(range(step, length + 1, step)) | {length})
    fwd_exp = np.full((3, length), np.nan)
    bwd_exp = np.full((3, length), np.nan)
    positions = np.arange(length)[None, :, None]
    for i in points:  # the prefix x[:i] and the suffix x[L - i:], everything else N (zero rows)
        fwd_exp[:, i - 1] = toy.logits(x * (positions < i))[:, 1]
        bwd_exp[:, length - i] = toy.logits(x * (positions >= length - i))[:, 1]
    fwd, bwd = temporal_scores(toy.model, x, 1, batch_size=4, step=step)
    np.testing.assert_array_equal(fwd, fwd_exp.astype(np.float32))  # NaN between the points
    np.testing.assert_array_equal(bwd, bwd_exp.astype(np.float32))
    np.testing.assert_array_equal(fwd[:, -1], toy.logits(x)[:, 1])  # the whole prefix = the sequence
    np.testing.assert_array_equal(bwd[:, 0], toy.logits(x)[:, 1])
    fwd_p, _ = temporal_scores(toy.model, x, 1, step=step, logits=False)
    np.testing.assert_allclose(fwd_p, sigmoid(fwd_exp), rtol=0, atol=PROB_ATOL)


def test_temporal_scores_of_an_any_length_model_read_true_prefixes():
    toy, rng = _pooling_toy(3, None, "max")
    x = _random_onehot(rng, 2, 13)
    fwd, bwd = temporal_scores(toy.model, x, 0, step=4)
    points = [4, 8, 12, 13]
    assert np.isnan(np.delete(fwd, [p - 1 for p in points], 1)).all()
    for i in points:
        np.testing.assert_array_equal(fwd[:, i - 1], toy.logits(x[:, :i])[:, 0])
        np.testing.assert_array_equal(bwd[:, 13 - i], toy.logits(x[:, 13 - i:])[:, 0])


def test_temporal_scores_leave_prefixes_shorter_than_a_convolution_nan():
    """An any-length convolutional model cannot read a prefix shorter than its filter: NaN there."""
    toy = motif_scanner(seq_len=None)  # width 10
    x = onehot(["ACGT" + MOTIF + "TTAGC", "GATAAGGCTTACCAGTTAC"])
    fwd, bwd = temporal_scores(toy.model, x, 0)
    assert np.isnan(fwd[:, :9]).all() and np.isnan(bwd[:, -9:]).all()
    for i in range(10, x.shape[1] + 1):
        np.testing.assert_array_equal(fwd[:, i - 1], toy.logits(x[:, :i])[:, 0])
        np.testing.assert_array_equal(bwd[:, x.shape[1] - i], toy.logits(x[:, x.shape[1] - i:])[:, 0])


def test_temporal_scores_refuse_a_flatten_model():
    toy, _, rng = _linear()
    with pytest.raises(ChromseqError, match="saliency"):
        temporal_scores(toy.model, _random_onehot(rng, 1, 12), 0)


# --- class optimization -----------------------------------------------------------------------------

def test_class_optimization_follows_rmsprop_on_a_linear_model():
    """S(X) - lam ||X||^2 with S linear: the gradient is w - 2 lam X; RMSprop (Keras 3) run in float64 here."""
    length, f, lam, lr, steps = 6, 1, 0.009, 0.05, 40
    rng = np.random.default_rng(2)
    w = dyadic(rng, (length, 4, 2), 1, 8) * rng.choice([-1, 1], (length, 4, 2))  # no zero weight
    w[3, :, f] = -np.abs(w[3, :, f])  # position 3: no base helps
    toy = flatten_dense(w, dyadic(rng, 2))
    x_opt, pwm = class_optimization(toy.model, f, length, lam=lam, lr=lr, steps=steps, seed=7)
    x = np.random.default_rng(7).uniform(size=(1, length, 4)).astype(np.float32)[0].astype(np.float64)
    velocity = np.zeros_like(x)
    for _ in range(steps):
        grad = -(w[:, :, f] - 2 * lam * x)  # of the loss -S(X) + lam ||X||^2
        velocity = 0.9 * velocity + 0.1 * grad**2
        x = x - lr * grad / np.sqrt(velocity + 1e-7)
    # 40 float32 steps of a few roundings (6e-8 each) apiece: relative error well under 1e-5
    np.testing.assert_allclose(x_opt, x, rtol=1e-5, atol=0)
    assert np.abs(x).min() > 0.5  # no entry near the clipping point of the PWM
    positive = np.clip(x, 0, None)
    sums = positive.sum(1, keepdims=True)
    expected_pwm = np.where(sums > 0, positive / np.where(sums > 0, sums, 1), 0.25)
    np.testing.assert_allclose(pwm, expected_pwm, rtol=1e-5, atol=0)
    unhelpful = w[:, :, f] < 0
    unhelpful[3] = False
    assert (pwm[3] == 0.25).all() and (pwm[unhelpful] == 0).all()


# --- first-layer filters and motif comparison ---------------------------------------------------------

def _filter_pwms_by_hand(x, kernel, bias, padding, threshold):
    """Every window (N outside the sequence) whose activation exceeds threshold x the filter's peak."""
    w, length = kernel.shape[0], x.shape[1]
    acts = scan_activations(x, kernel, bias, padding)
    left = (w - 1) // 2 if padding == "same" else 0  # output p reads the input from p - left
    pwms, sites = [], []
    for f in range(kernel.shape[-1]):
        counts = np.zeros((w, 4))
        peak = acts[..., f].max()
        n_sites = 0
        for n in range(len(x)):
            for p in range(acts.shape[1]):
                if peak > 0 and acts[n, p, f] > threshold * peak:
                    counts += [x[n, j] if 0 <= j < length else np.zeros(4) for j in range(p - left, p - left + w)]
                    n_sites += 1
        counts = counts[:, [0, 2, 1, 3]]  # AGCT -> ACGT columns
        total = counts.sum(1, keepdims=True)
        pwms.append(np.where(total > 0, counts / np.where(total > 0, total, 1), 0.25))
        sites.append(n_sites)
    return pwms, sites


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("motif", [MOTIF, "GATTACA", "TGCA"])  # even, odd and short widths
def test_filter_motifs_average_the_windows_above_threshold(padding, motif):
    toy = motif_scanner(motif, padding=padding, bias=0.0)  # graded: activation = matching bases
    rng = np.random.default_rng(len(motif))
    seqs = ["".join(rng.choice(list("ACGT"), 30)) for _ in range(6)]
    seqs[2] = seqs[2][:3] + motif + seqs[2][3 + len(motif):]
    seqs[4] = revcomp(motif) + seqs[4][len(motif):]  # at the very start: windows reach past the edge
    x = onehot(seqs)
    for threshold in (0.5, 0.8):
        motifs, sites = filter_motifs(toy.model, x, threshold=threshold, batch_size=4)
        pwms, n_sites = _filter_pwms_by_hand(x, toy.kernel, toy.scan_bias, padding, threshold)
        assert list(sites) == n_sites and [m.id for m in motifs] == ["filter0", "filter1"]
        for m, pwm in zip(motifs, pwms):  # float32 counts are exact; their division rounds once (2^-24)
            np.testing.assert_allclose(m.pwm, pwm, rtol=2**-23, atol=0)


def test_filters_of_the_exact_motif_scanner_are_the_motif():  # matching: test_motif_match.py
    toy = motif_scanner(MOTIF)  # activation 1 on a full match, 0 elsewhere
    seqs = ["C" * 5 + MOTIF + "C" * 15, "A" * 20 + revcomp(MOTIF), "C" * 30, MOTIF + "A" * 10 + MOTIF]
    motifs, sites = filter_motifs(toy.model, onehot(seqs))
    acgt = lambda s: onehot(s, "ACGT")  # noqa: E731
    np.testing.assert_array_equal(motifs[0].pwm, acgt(MOTIF))
    np.testing.assert_array_equal(motifs[1].pwm, acgt(revcomp(MOTIF)))
    assert list(sites) == [3, 1]
    # 2 bits a column, less the 1e-9 floor of the three zero probabilities (9e-8 bits) and float32 rounding
    np.testing.assert_allclose(information_content(motifs[0].pwm), 2.0, rtol=0, atol=1e-6)


# --- the command line -------------------------------------------------------------------------------

def test_interpret_cli_methods_and_errors(tmp_path):
    import h5py

    length = 40
    toy = motif_run(tmp_path / "run", seq_len=length, fixed_length=True)
    run = tmp_path / "run"
    seqs = ["C" * 12 + MOTIF + "C" * 18, "A" * 40, "T" * 25 + revcomp(MOTIF) + "T" * 5, "G" * 40]
    x = onehot(seqs)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = x.astype(np.uint8)
        f["y"] = np.array([[1], [0], [1], [0]], np.uint8)
        f.attrs["alphabet"] = "AGCT"
    data = ["--data", str(tmp_path / "d.h5")]
    arrays = {}
    for method in ("saliency", "ism", "temporal"):
        out = tmp_path / method
        result = CliRunner().invoke(main, ["interpret", method, "--run", str(run), "--feature", "GATA1",
                                           "--samples", "2", "--out", str(out), *data])
        assert result.exit_code == 0, result.output
        assert len(list(out.glob("*.png"))) == 2
        arrays[method] = np.load(out / f"{method}.npz")
        np.testing.assert_array_equal(arrays[method]["samples"], [0, 2])  # the two positives
    positives = x[[0, 2]]
    np.testing.assert_array_equal(arrays["saliency"]["saliency"], 10 * positives * _motif_span(seqs[0::2], length))
    expected_ism = _ism_by_hand(toy, positives, range(length), logits=False)[..., 0]
    np.testing.assert_allclose(arrays["ism"]["ism"], expected_ism, rtol=0, atol=2 * PROB_ATOL)
    keep = np.arange(length)[None, :, None] < np.arange(1, length + 1)[:, None, None]  # (L, L, 1) prefix masks
    expected_fwd = np.stack([toy.logits(positives[n] * keep)[:, 0] for n in range(2)])
    np.testing.assert_array_equal(arrays["temporal"]["forward"], expected_fwd)
    np.testing.assert_array_equal(arrays["temporal"]["backward"][:, 0], toy.logits(positives)[:, 0])
    result = CliRunner().invoke(main, ["interpret", "classopt", "--run", str(run), "--steps", "3",
                                       "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    pwm = np.load(tmp_path / "c" / "classopt.npz")["pwm"]
    assert pwm.shape == (length, 4) and np.allclose(pwm.sum(1), 1)
    result = CliRunner().invoke(main, ["interpret", "filters", "--run", str(run), "--out", str(tmp_path / "f"),
                                       *data])  # matching with --motif-db: tests/test_motif_match.py
    assert result.exit_code == 0, result.output
    filters = read_motifs(tmp_path / "f" / "filters.meme")
    np.testing.assert_allclose(filters[0].pwm, onehot(MOTIF, "ACGT"), atol=1e-6)  # written with 6 decimals
    bad = CliRunner().invoke(main, ["interpret", "saliency", "--run", str(run), "--feature", "99", *data])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    bad = CliRunner().invoke(main, ["interpret", "saliency", "--run", str(run), "--feature", "NOSUCHTF", *data])
    assert bad.exit_code == 2 and "no feature matches" in bad.output


def _motif_span(seqs, length):
    """(N, L, 1): 1 on the bases of the single motif copy (either strand) of each sequence."""
    mask = np.zeros((len(seqs), length, 1))
    for n, s in enumerate(seqs):
        start = s.find(MOTIF) if MOTIF in s else s.find(revcomp(MOTIF))
        mask[n, start:start + len(MOTIF)] = 1
    return mask
