"""The notebook API without traps: explicit alphabets, length checks, no unbounded model cache,
plot functions that return Figures, draw into given Axes and write files only when asked.

Toy models with hand-set weights (tests/toy_models.py): predictions are compared with their
NumPy twins.
"""

import gc

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from toy_models import MOTIF, PROB_ATOL, dyadic, flatten_dense, motif_scanner, onehot

import chromseq
from chromseq.data.encoding import decode, one_hot, reverse_complement
from chromseq.data.motifs import Motif
from chromseq.errors import ChromseqError
from chromseq.inference import _FORWARD_CACHE, compiled_forward, predict_batches


# -- one_hot: the alphabet is always explicit ---------------------------------------------------
def test_one_hot_has_no_default_alphabet():
    for fn, arg in ((one_hot, "ACGT"), (decode, np.eye(4)), (reverse_complement, np.eye(4))):
        with pytest.raises(TypeError, match="alphabet"):
            fn(arg)
    assert chromseq.one_hot is one_hot and chromseq.DEEPSEA_ALPHABET == "AGCT"


@pytest.mark.parametrize("alphabet", ["AGCT", "ACGT", "TGCA"])
def test_one_hot_channels_follow_the_alphabet(alphabet):
    seqs = ["ACGTNacgt", "GGGTTTCAN"]
    x = one_hot(seqs, alphabet)
    np.testing.assert_array_equal(x, onehot(seqs, alphabet))  # the NumPy reference: channel i = alphabet[i]
    assert x.shape == (2, 9, 4)
    assert decode(x, alphabet) == [s.upper() for s in seqs]
    assert one_hot("A", alphabet=alphabet)[0, alphabet.index("A")] == 1


def test_predictions_depend_on_the_alphabet_and_strings_need_one():
    toy = motif_scanner(MOTIF, "AGCT", seq_len=30)  # a DeepSEA-layout (AGCT) model
    seq = "T" * 10 + MOTIF + "A" * 10
    p = predict_batches(toy.model, [seq], alphabet="AGCT")
    np.testing.assert_allclose(p, toy.outputs(onehot([seq], "AGCT")), atol=PROB_ATOL)
    assert p[0, 0] > 0.99
    assert predict_batches(toy.model, [seq], alphabet="ACGT")[0, 0] < 0.01  # the trap the alphabet avoids
    with pytest.raises(ChromseqError, match="needs alphabet"):
        predict_batches(toy.model, [seq])
    with pytest.raises(ChromseqError, match="rc_average needs alphabet"):
        predict_batches(toy.model, onehot([seq]), rc_average=True)


def test_a_run_like_model_brings_its_alphabet_and_refuses_another():
    from chromseq.apps.predict import RunModel

    toy = motif_scanner(MOTIF, "AGCT", seq_len=30)
    rm = RunModel(toy.model, 30, "AGCT", ["motif"])
    seq = "C" * 10 + MOTIF + "G" * 10
    np.testing.assert_allclose(predict_batches(rm, [seq]), toy.outputs(onehot([seq], "AGCT")), atol=PROB_ATOL)
    with pytest.raises(ChromseqError, match="reads AGCT"):
        predict_batches(rm, [seq], alphabet="ACGT")


def test_a_dataset_is_converted_to_the_model_alphabet(tmp_path):
    rng = np.random.default_rng(0)
    toy = flatten_dense(dyadic(rng, (6, 4, 2)), dyadic(rng, 2), use_sigmoid=False)
    seqs = ["".join(rng.choice(list("ACGT"), 6)) for _ in range(5)]
    np.savez(tmp_path / "d.npz", x=onehot(seqs, "ACGT").astype(np.uint8), y=np.zeros((5, 2), np.uint8),
             alphabet="ACGT")
    ds = chromseq.open_dataset(tmp_path / "d.npz")
    assert ds.alphabet == "ACGT"
    expected = toy.outputs(onehot(seqs, "AGCT")).astype(np.float32)
    np.testing.assert_array_equal(predict_batches(toy.model, ds, alphabet="AGCT", batch_size=2), expected)


# -- predict_batches: lengths ---------------------------------------------------------------------
def test_a_wrong_length_is_one_line_error_even_after_other_lengths():
    fixed = motif_scanner(MOTIF, "AGCT", seq_len=200)  # global max pooling: Keras itself would accept any length
    anylen = motif_scanner(MOTIF, "AGCT", seq_len=None)
    rng = np.random.default_rng(1)
    x200, x1000 = (np.eye(4)[rng.integers(0, 4, (3, n))] for n in (200, 1000))
    for x in (x200, x1000, x200[:, :50]):  # any-length model: every length, retraced as needed
        np.testing.assert_allclose(predict_batches(anylen.model, x, batch_size=2), anylen.outputs(x), atol=PROB_ATOL)
    np.testing.assert_allclose(predict_batches(fixed.model, x200), fixed.outputs(x200), atol=PROB_ATOL)
    for bad in (x1000, list(x1000), ["A" * 1000], x200[:, :100]):
        with pytest.raises(ChromseqError) as err:
            predict_batches(fixed.model, bad, alphabet="AGCT")
        assert "takes sequences of 200 bp" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ChromseqError, match=r"\(N, L, 4\)"):
        predict_batches(fixed.model, x200.transpose(0, 2, 1))  # (N, 4, L): the other orientation
    np.testing.assert_allclose(predict_batches(fixed.model, x200), fixed.outputs(x200), atol=PROB_ATOL)


def test_compiled_forward_cache_does_not_grow_over_many_models():
    rng = np.random.default_rng(2)
    x = np.eye(4)[rng.integers(0, 4, (2, 5))]
    gc.collect()
    before = len(_FORWARD_CACHE)
    for _ in range(12):
        toy = flatten_dense(dyadic(rng, (5, 4, 1)), dyadic(rng, 1), use_sigmoid=False)
        assert compiled_forward(toy.model) is compiled_forward(toy.model)  # reused while the model lives
        np.testing.assert_array_equal(predict_batches(toy.model, x), toy.outputs(x).astype(np.float32))
        del toy
        gc.collect()
        assert len(_FORWARD_CACHE) <= before
    assert len(_FORWARD_CACHE) <= before


# -- plots: Figure returned, ax= honoured, file written on request ---------------------------------
def _plot_cases():
    from chromseq.plots import attribution, curves, feature_maps, logos, variants

    rng = np.random.default_rng(0)
    y = (rng.random((40, 3)) < 0.4).astype(float)
    p = np.clip(y * 0.5 + rng.random((40, 3)) * 0.5, 0, 1)
    rows = [{"index": j, "name": f"f{j}", "feature_class": c, "auroc": a, "auprc": b}
            for j, (c, a, b) in enumerate([("TF", 0.8, 0.6), ("DNase", 0.7, 0.5), ("TF", float("nan"), 0.4)])]
    history = {"epoch": np.arange(3.0), "loss": np.array([0.7, 0.5, 0.4]), "val_loss": np.array([0.7, 0.6, 0.5]),
               "perplexity": np.array([2.0, 1.6, 1.5]), "val_f1": np.array([0.2, 0.3, 0.4]),
               "val_auroc": np.array([0.6, 0.7, 0.8])}
    x = onehot("ACGTNACGTTGCA" * 3, "AGCT")
    sal = x * rng.random((len(x), 1))
    ism = rng.normal(size=(len(x), 4))
    snaps = [{"epoch": e, "y_pred": p[:8], "y_true": y[:8]} for e in (0, 1)]
    motifs = [Motif("m1", "one", np.full((4, 4), 0.1) + 0.6 * np.eye(4)[::-1]), Motif("m2", "two", np.eye(4))]
    window = "ACGT" * 5 + "A" + "TGCA" * 5
    return {
        "plot_roc_pr": (2, lambda path, **kw: curves.plot_roc_pr(y, p, rows, [0, 1], path, **kw)),
        "plot_auc_distribution": (1, lambda path, **kw: curves.plot_auc_distribution(rows, path, "auroc", **kw)),
        "plot_training_curves": (4, lambda path, **kw: curves.plot_training_curves(history, path, **kw)),
        "plot_barcodes": (1, lambda path, **kw: feature_maps.plot_barcodes(x[None].repeat(3, 0), "AGCT", path, **kw)),
        "plot_feature_map": (1, lambda path, **kw: feature_maps.plot_feature_map(y, path, classes=["TF", "TF", "DNase"],
                                                                                   **kw)),
        "plot_map_evolution": (3, lambda path, **kw: feature_maps.plot_map_evolution(snaps, path, **kw)),
        "plot_logos": (2, lambda path, **kw: logos.plot_logos(motifs, path, **kw)),
        "plot_saliency": (2, lambda path, **kw: attribution.plot_saliency(x, sal, "AGCT", path, title="s", zoom=10,
                                                                          planted=[(2, 5)], **kw)),
        "plot_ism": (1, lambda path, **kw: attribution.plot_ism(x, ism, "AGCT", path, title="i", zoom=10, **kw)),
        "plot_temporal": (1, lambda path, **kw: attribution.plot_temporal(ism[:, 0], ism[:, 1], path, **kw)),
        "plot_variant": (2, lambda path, **kw: variants.plot_variant("v", p[0], p[1], ["a", "b", "c"], ism[:21],
                                                                     window, "AGCT", 1, path, 10, **kw)),
    }


def _drawn(ax) -> int:
    return len(ax.images) + len(ax.lines) + len(ax.patches) + len(ax.collections)


@pytest.mark.parametrize("name", sorted(_plot_cases()))
def test_plot_functions_return_figures_draw_into_axes_and_write_on_request(name, tmp_path):
    import matplotlib.pyplot as plt

    open_before = plt.get_fignums()
    n_axes, plot = _plot_cases()[name]

    fig = plot(None)  # notebook use: a Figure, no file, nothing left open in pyplot
    assert isinstance(fig, Figure) and fig.axes
    assert list(tmp_path.iterdir()) == []

    host = Figure()
    axes = host.subplots(1, n_axes) if n_axes > 1 else host.subplots()
    kw = {"axes": axes} if n_axes > 1 else {"ax": axes}
    assert plot(None, **kw) is host  # drawn into the caller's Axes
    assert all(_drawn(ax) for ax in np.atleast_1d(axes))

    out = tmp_path / "sub" / f"{name}.png"
    out.parent.mkdir()
    fig = plot(out)  # command-line use: the file, written atomically
    assert isinstance(fig, Figure)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    assert plt.get_fignums() == open_before


def test_plots_refuse_a_wrong_number_of_axes():
    from chromseq.plots.curves import plot_roc_pr

    with pytest.raises(ChromseqError, match="2 panels, given 1"):
        plot_roc_pr(np.zeros((2, 1)), np.zeros((2, 1)), [], [], axes=[Figure().subplots()])


def test_draw_logo_returns_the_figure_and_importing_plots_keeps_the_backend():
    backend = matplotlib.get_backend()
    from chromseq.plots.logos import draw_logo

    ax = Figure().subplots()
    assert draw_logo(ax, np.eye(4), "ACGT") is ax.figure and len(ax.patches) == 4
    assert matplotlib.get_backend() == backend
