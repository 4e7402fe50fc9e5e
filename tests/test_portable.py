"""A saved model is a plain Keras file: it loads where chromseq cannot be imported and predicts the same."""

import os
import subprocess
import sys

import keras
import numpy as np

from chromseq.models import build_model
from chromseq.models.portable import needs_chromseq, portable_model, save_portable

# a fresh interpreter in which `import chromseq` fails
WITHOUT_CHROMSEQ = """
import sys
class NoChromseq:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "chromseq":
            raise ImportError("chromseq is blocked in this test")
sys.meta_path.insert(0, NoChromseq())
import keras, numpy as np
model = keras.saving.load_model(sys.argv[1])
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""


def predict_without_chromseq(model_file, x, tmp_path) -> np.ndarray:
    np.save(tmp_path / "x.npy", x)
    proc = subprocess.run([sys.executable, "-c", WITHOUT_CHROMSEQ, str(model_file), str(tmp_path / "x.npy"),
                           str(tmp_path / "y.npy")], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return np.load(tmp_path / "y.npy")


def _deepsea():
    return build_model("deepsea", 64, 5, conv_filters=[16, 16, 16], dense_units=8, pool_size=2)


def test_portable_deepsea_has_only_keras_classes_and_the_same_weights():
    model = _deepsea()
    assert needs_chromseq(model)  # the training-speed Conv1D/Dense and penalties
    plain = portable_model(model)
    assert not needs_chromseq(plain)
    assert [w.shape for w in plain.weights] == [w.shape for w in model.weights]
    for a, b in zip(plain.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    conv = plain.get_layer("conv2")
    assert type(conv) is keras.layers.Conv1D and type(conv.kernel_regularizer) is keras.regularizers.L2
    assert conv.kernel_regularizer.l2 == model.get_layer("conv2").kernel_regularizer.l2


def test_a_saved_deepsea_loads_and_predicts_without_chromseq(tmp_path):
    model = _deepsea()
    x = np.eye(4, dtype="float32")[np.random.default_rng(0).integers(0, 4, (6, 64))]
    save_portable(model, tmp_path / "model.keras")
    got = predict_without_chromseq(tmp_path / "model.keras", x, tmp_path)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=0, atol=1e-5)


def test_a_model_of_keras_layers_is_saved_as_it_is():
    model = build_model("demo_cnn", 50, 3, filters=4, widths=[5, 3])
    assert portable_model(model) is model and not needs_chromseq(model)


def test_the_model_file_of_a_deepsea_run_needs_no_chromseq(tmp_path):
    """model.keras of a trained DeepSEA run predicts, without chromseq, what chromseq predicts (1e-5)."""
    from chromseq.data import open_dataset
    from chromseq.data.synth import write_bundle
    from chromseq.inference import predict_batches
    from chromseq.runs import load_model
    from chromseq.training import train

    write_bundle(tmp_path / "b", n_train=64, n_valid=32, n_test=8, length=64, n_features=4, seed=0)
    cfg = {"name": "p", "seed": 0,
           "model": {"name": "deepsea", "params": {"conv_filters": [16, 16, 16], "dense_units": 8, "pool_size": 2}},
           "data": {"train": str(tmp_path / "b" / "train.mat"), "valid": str(tmp_path / "b" / "valid.mat")},
           "train": {"epochs": 1, "batch_size": 32, "verbose": 0}}
    run = train(cfg, tmp_path / "run")
    x, _ = open_dataset(tmp_path / "b" / "valid.mat").load()
    ours = predict_batches(load_model(run), x.astype("float32"))
    np.testing.assert_allclose(predict_without_chromseq(run / "model.keras", x.astype("float32"), tmp_path),
                               ours, rtol=0, atol=1e-5)
