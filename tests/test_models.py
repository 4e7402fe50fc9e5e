import numpy as np
import pytest

from chromseq.errors import ChromseqError
from chromseq.models import MODEL_NAMES, VARIABLE_LENGTH, build_model, model_params


def test_published_parameter_counts():
    assert build_model("deepsea", 1000, 919).count_params() == pytest.approx(52.8e6, rel=0.002)
    assert build_model("danq", 1000, 919).count_params() == pytest.approx(46.9e6, rel=0.002)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_builds_for_any_length_and_ends_in_logits(name, tmp_path):
    length = 400 if name == "beluga" else 300  # Beluga's six convolutions and two pools need >= 310 bp
    model = build_model(name, length, 5)
    x = np.eye(4, dtype="float32")[np.random.default_rng(0).integers(0, 4, (2, length))]
    out = np.asarray(model(x))
    assert out.shape == (2, 5) and ((out > 0) & (out < 1)).all()
    assert model.get_layer("logits").units == 5 and model.output.dtype == "float32"
    if name in VARIABLE_LENGTH:
        assert np.asarray(model(x[:, :120])).shape == (2, 5)
    model.save(tmp_path / "m.keras")
    from chromseq.runs import load_model

    np.testing.assert_allclose(np.asarray(load_model(tmp_path / "m.keras")(x)), out, rtol=1e-5)


def test_builder_errors_name_the_parameter():
    with pytest.raises(ChromseqError, match="no parameter lstm_size; allowed: conv_filters"):
        build_model("danq", 1000, 919, lstm_size=3)
    with pytest.raises(ChromseqError, match="unknown model"):
        build_model("resnet", 1000, 919)
    with pytest.raises(ChromseqError, match="cannot build deepsea for length 50"):
        build_model("deepsea", 50, 3)
    assert model_params("deepsea")["l2"] == 5e-7
