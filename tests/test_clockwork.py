import keras
import numpy as np

from chromseq.models.clockwork import ClockworkCell


def _run(cell, x):
    return np.asarray(keras.layers.RNN(cell, return_sequences=True)(x))


def test_inactive_modules_keep_their_state_bit_for_bit():
    k, g = 3, 4
    cell = ClockworkCell(module_size=k, modules=g)
    x = np.random.default_rng(0).normal(size=(2, 17, 5)).astype("float32")
    h = _run(cell, x)  # (B, T, g*k); step t is processed at counter t
    for i, period in enumerate(cell.periods):
        block = h[:, :, i * k:(i + 1) * k]
        for t in range(1, 17):
            if t % period:
                assert np.array_equal(block[:, t], block[:, t - 1])  # bit-identical
            else:
                assert not np.array_equal(block[:, t], block[:, t - 1])


def test_slow_modules_do_not_depend_on_fast_ones_and_parameter_count():
    k, g = 2, 3
    cell = ClockworkCell(module_size=k, modules=g)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 9, 4)).astype("float32")
    base = _run(cell, x)
    # change the fast module's input weights only: the slowest module must not notice
    w = cell.input_kernel.numpy()
    w[:, :k] += 1.0
    cell.input_kernel.assign(w)
    changed = _run(cell, x)
    assert not np.allclose(base[:, :, :k], changed[:, :, :k])
    np.testing.assert_array_equal(base[:, :, -k:], changed[:, :, -k:])
    recurrent = sum(int(np.prod(b.shape)) for b in cell.recurrent_blocks)
    assert recurrent == k * k * g * (g + 1) // 2


def test_inside_bidirectional_and_serializable(tmp_path):
    inputs = keras.Input((None, 4))
    out = keras.layers.Bidirectional(keras.layers.RNN(ClockworkCell(4, 3, periods=[1, 3, 9])))(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(out))
    x = np.random.default_rng(2).normal(size=(2, 12, 4)).astype("float32")
    model.save(tmp_path / "cw.keras")
    again = keras.saving.load_model(tmp_path / "cw.keras")
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), rtol=1e-6)
