"""chromseq export: a run's model as a SavedModel or ONNX file that predicts what chromseq predicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from apps_helpers import linear_run, motif_run, save_run
from click.testing import CliRunner
from toy_models import MOTIF, PROB_ATOL, Toy, dyadic, flatten_dense, onehot

from chromseq import __version__
from chromseq.cli import main
from chromseq.errors import ChromseqError
from chromseq.inference import predict_batches
from chromseq.interop.export import ExportMetadata, export_onnx, export_run
from chromseq.runs import load_model

# a fresh interpreter in which `import chromseq` fails: what a TF Serving user has
LOAD_SAVEDMODEL = """
import json, sys
class NoChromseq:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "chromseq":
            raise ImportError("chromseq is blocked in this test")
sys.meta_path.insert(0, NoChromseq())
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
serve = loaded.signatures["serving_default"]
meta = {k: v.numpy() for k, v in loaded.signatures["metadata"]().items()}
meta = {k: v.decode() if isinstance(v, bytes) else v.tolist() for k, v in meta.items()}
meta["feature_names"] = [n.decode() for n in meta["feature_names"]]
signature = {"inputs": {k: [v.shape.as_list(), v.dtype.name] for k, v in serve.structured_input_signature[1].items()},
             "outputs": sorted(serve.structured_outputs)}
y = serve(sequence=tf.constant(np.load(sys.argv[2])))["probabilities"].numpy()
np.save(sys.argv[3], y)
print(json.dumps({"metadata": meta, "signature": signature}))
"""


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _refused(result, *needles) -> str:
    """Exit 2 and one ``error:`` line holding every needle."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert str(needle) in errors[0], (needle, errors[0])
    return errors[0]


def _load_without_chromseq(export_dir, x, tmp_path) -> tuple[np.ndarray, dict]:
    np.save(tmp_path / "x.npy", x)
    proc = subprocess.run([sys.executable, "-c", LOAD_SAVEDMODEL, str(export_dir), str(tmp_path / "x.npy"),
                           str(tmp_path / "y.npy")], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return np.load(tmp_path / "y.npy"), json.loads(proc.stdout.strip().splitlines()[-1])


def _need_onnx():
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'chromseq[onnx]')")
    pytest.importorskip("tf2onnx", reason="tf2onnx is not installed (pip install 'chromseq[onnx]')")


def _onnx_session(path):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _random_onehot(n, length, seed=0):
    return np.eye(4, dtype="float32")[np.random.default_rng(seed).integers(0, 4, (n, length))]


@pytest.mark.slow
def test_savedmodel_loads_without_chromseq_and_predicts_the_same(tmp_path):
    """CLI -> SavedModel; a process that cannot import chromseq gets the same outputs and the metadata."""
    length, names = 12, ["HeLa|CTCF|None", "K562|GATA1|None", "GM12878|DNase|None"]
    rng = np.random.default_rng(0)
    toy = flatten_dense(dyadic(rng, (length, 4, 3)), dyadic(rng, 3), use_sigmoid=False)
    save_run(toy, tmp_path / "run", length, alphabet="ACGT", names=names)
    result = _cli("export", "--run", tmp_path / "run", "--format", "savedmodel", "--out", tmp_path / "sm")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "(N, 12, 4) in ACGT order" in result.output
    seqs = ["ACGTACGTACGT", "GGGGCCCCAATT", "NNNNACGTTTTT"]
    x = onehot(seqs, "ACGT").astype("float32")
    got, info = _load_without_chromseq(tmp_path / "sm", x, tmp_path)
    np.testing.assert_array_equal(got, toy.outputs(x).astype("float32"))  # dyadic weights: exact
    ours = predict_batches(load_model(tmp_path / "run"), x, alphabet="ACGT")
    np.testing.assert_allclose(got, ours, rtol=0, atol=1e-5)
    assert info["signature"] == {"inputs": {"sequence": [[None, 12, 4], "float32"]}, "outputs": ["probabilities"]}
    assert info["metadata"] == {"alphabet": "ACGT", "seq_len": 12, "input_length": 12, "feature_names": names,
                                "rc_average": False, "chromseq_version": __version__}
    on_disk = json.loads((tmp_path / "sm" / "assets.extra" / "chromseq.json").read_text())
    assert on_disk == info["metadata"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sm.")]  # no temporary folder left


def test_onnx_matches_chromseq_with_metadata_and_any_length(tmp_path):
    """The motif scanner (any input length, sigmoid head) as ONNX, with reverse-complement averaging built in."""
    _need_onnx()
    toy = motif_run(tmp_path / "run", seq_len=40)
    out = tmp_path / "motif.onnx"
    result = _cli("export", "--run", tmp_path / "run", "--format", "onnx", "--out", out, "--rc-average")
    assert result.exit_code == 0, result.output
    session = _onnx_session(out)
    assert [i.name for i in session.get_inputs()] == ["sequence"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["alphabet"] == "AGCT" and meta["seq_len"] == "40" and meta["input_length"] == "0"
    assert json.loads(meta["feature_names"]) == ["K562|GATA1|None"]
    assert meta["rc_average"] == "true" and meta["chromseq_version"] == __version__
    model = load_model(tmp_path / "run")
    rng = np.random.default_rng(1)
    for length in (40, 25):  # the scanner takes any length; so does its export
        bases = ["".join(rng.choice(list("ACGT"), length)) for _ in range(4)]
        bases[1] = bases[1][:5] + MOTIF + bases[1][5 + len(MOTIF):]
        x = onehot(bases).astype("float32")
        got = session.run(["probabilities"], {"sequence": x})[0]
        ours = predict_batches(model, x, alphabet="AGCT", rc_average=True)
        np.testing.assert_allclose(got, ours, rtol=0, atol=1e-5)
        np.testing.assert_allclose(got, toy.outputs(x), rtol=0, atol=PROB_ATOL)  # rc of a scan: same logit
        assert got[1, 0] > 0.99 and got[0, 0] < 0.01


def test_export_refuses_an_existing_output_unless_overwrite(tmp_path):
    linear_run(tmp_path / "run", 8, 2)
    out = tmp_path / "sm"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    _refused(_cli("export", "--run", tmp_path / "run", "--format", "savedmodel", "--out", out),
             str(out), "exists", "--overwrite")
    assert (out / "keep.txt").read_text() == "earlier"
    result = _cli("export", "--run", tmp_path / "run", "--format", "savedmodel", "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert (out / "saved_model.pb").exists() and not (out / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "sm"]  # no temporary or old folder left


def test_export_cli_errors(tmp_path):
    linear_run(tmp_path / "run", 8, 2)
    bad = _cli("export", "--run", tmp_path / "run", "--format", "tflite", "--out", tmp_path / "x")
    assert bad.exit_code == 2 and "'tflite' is not one of 'savedmodel', 'onnx'" in bad.output
    _refused(_cli("export", "--run", tmp_path / "run", "--format", "onnx", "--out", tmp_path / "x.pb"),
             "x.pb", ".onnx")
    _refused(_cli("export", "--run", tmp_path / "run", "--format", "savedmodel", "--out", tmp_path / "x.onnx"),
             "x.onnx", "folder")
    _refused(_cli("export", "--run", tmp_path / "nope", "--format", "savedmodel", "--out", tmp_path / "x"),
             "nope", "run directory not found")
    (tmp_path / "file").write_text("")
    _refused(_cli("export", "--run", tmp_path / "run", "--format", "savedmodel", "--out", tmp_path / "file",
                  "--overwrite"), "file", "is a file")
    with pytest.raises(ChromseqError, match="allowed: savedmodel, onnx"):
        export_run(tmp_path / "run", "torchscript", tmp_path / "y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "run"]


def test_onnx_without_tf2onnx_is_one_line(tmp_path, monkeypatch):
    linear_run(tmp_path / "run", 8, 2)
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # import tf2onnx raises ImportError
    _refused(_cli("export", "--run", tmp_path / "run", "--format", "onnx", "--out", tmp_path / "m.onnx"),
             "tf2onnx", "chromseq[onnx]")
    assert not (tmp_path / "m.onnx").exists()


class _LogGamma(keras.layers.Layer):
    """An op (Lgamma) that tf2onnx has no converter for."""

    def call(self, x):
        import tensorflow as tf

        return tf.math.lgamma(x + 1.0)


def test_onnx_of_an_unconvertible_model_is_a_clear_error(tmp_path):
    _need_onnx()
    inputs = keras.Input((6, 4), name="sequence")
    h = keras.layers.Flatten()(_LogGamma()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="logits")(h))
    meta = ExportMetadata("AGCT", 6, 6, ["f"], False, __version__)
    with pytest.raises(ChromseqError) as err:
        export_onnx(model, tmp_path / "m.onnx", meta)
    message = str(err.value)
    assert "m.onnx" in message and "savedmodel" in message and "\n" not in message
    assert "has no ONNX conversion for the TensorFlow op(s) Lgamma" in message
    assert list(tmp_path.iterdir()) == []


def test_onnx_of_a_bfloat16_model_is_refused(tmp_path):
    _need_onnx()
    from chromseq.models import build_model

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model("demo_cnn", 20, 2, filters=4, widths=[5, 3])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    meta = ExportMetadata("AGCT", 20, 20, ["a", "b"], False, __version__)
    with pytest.raises(ChromseqError, match="bfloat16.*--format savedmodel"):
        export_onnx(model, tmp_path / "m.onnx", meta)
    assert list(tmp_path.iterdir()) == []


TINY = {
    "gru_stack": {"units": [4, 4]},
    "bigru": {"units": 4},
    "deepsea": {"conv_filters": [4, 4, 4], "conv_width": 3, "pool_size": 2, "dense_units": 4},
    "danq": {"conv_filters": 4, "conv_width": 5, "pool_size": 4, "lstm_units": 3, "dense_units": 4},
    "demo_cnn": {"filters": 4, "widths": [5, 3]},
    "demo_rnn": {"units": 3},
    "demo_cnn_rnn": {"filters": 4, "width": 3, "units": 3},
    "cwrnn": {"module_size": 2, "modules": 3},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY))
def test_every_architecture_exports_to_both_formats(tmp_path, name):
    """Each registry model (random weights, tiny) as a run: SavedModel and ONNX match chromseq to 1e-5."""
    _need_onnx()
    from chromseq.models import build_model
    from chromseq.models.registry import VARIABLE_LENGTH

    keras.utils.set_random_seed(0)
    length = 40
    model = build_model(name, length, 3, **TINY[name])
    save_run(Toy(model, logits=None), tmp_path / "run", length)
    x = _random_onehot(5, length)
    ours = predict_batches(load_model(tmp_path / "run"), x, alphabet="AGCT")
    for fmt, out in (("savedmodel", tmp_path / "sm"), ("onnx", tmp_path / "m.onnx")):
        result = export_run(tmp_path / "run", fmt, out)
        assert result["max_abs_diff"] <= 1e-5
        assert result["metadata"]["input_length"] == (None if name in VARIABLE_LENGTH else length)
    session = _onnx_session(tmp_path / "m.onnx")
    np.testing.assert_allclose(session.run(["probabilities"], {"sequence": x})[0], ours, rtol=0, atol=1e-5)
    import tensorflow as tf

    serve = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    np.testing.assert_allclose(serve(sequence=tf.constant(x))["probabilities"].numpy(), ours, rtol=0, atol=1e-5)
