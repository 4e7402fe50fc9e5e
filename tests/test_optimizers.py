"""Fused optimizer updates and the cheaper L2 / max-norm give Keras' own results."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from chromseq.models.penalties import L2, MaxNorm
from chromseq.training.optimizers import FusedAdam, FusedSGD, make_optimizer


def _run(opt, steps=6, shape=(7, 5)):
    w = keras.Variable(np.random.default_rng(1).normal(size=shape).astype(np.float32))
    for s in range(steps):
        g = tf.constant(np.random.default_rng(s).normal(size=shape).astype(np.float32))
        opt.apply([g], [w])
    return w.numpy()


@pytest.mark.parametrize("make_pair", [
    lambda: (keras.optimizers.Adam(0.05), FusedAdam(0.05)),
    lambda: (keras.optimizers.Adam(0.05, beta_1=0.8, epsilon=1e-4, clipnorm=0.5),
             FusedAdam(0.05, beta_1=0.8, epsilon=1e-4, clipnorm=0.5)),
    lambda: (keras.optimizers.SGD(0.1, momentum=0.9), FusedSGD(0.1, momentum=0.9)),
    lambda: (keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True), FusedSGD(0.1, momentum=0.9, nesterov=True)),
    lambda: (keras.optimizers.SGD(keras.optimizers.schedules.InverseTimeDecay(1.0, 1, 0.5), momentum=0.9),
             FusedSGD(keras.optimizers.schedules.InverseTimeDecay(1.0, 1, 0.5), momentum=0.9)),
])
def test_fused_updates_match_keras(make_pair):
    reference, fused = make_pair()
    np.testing.assert_allclose(_run(fused), _run(reference), rtol=2e-5, atol=2e-6)


def test_make_optimizer_names():
    assert isinstance(make_optimizer("adam", 1e-3), FusedAdam)
    assert isinstance(make_optimizer("sgd", 1e-2, momentum=0.9), FusedSGD)
    assert isinstance(make_optimizer("rmsprop", 1e-3), keras.optimizers.RMSprop)
    with pytest.raises(ValueError, match="adam, sgd, rmsprop"):
        make_optimizer("lion", 1e-3)


def test_a_compiled_model_saves_and_resumes_with_its_fused_optimizer(tmp_path):
    from chromseq.runs import load_model

    x = np.random.default_rng(0).random((32, 6)).astype(np.float32)
    y = (x.sum(1, keepdims=True) > 3).astype(np.float32)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, kernel_constraint=MaxNorm(0.5),
                                                                     kernel_regularizer=L2(1e-3))])
    model.compile(FusedAdam(1e-2), "binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras", compile=True)
    assert isinstance(again.optimizer, FusedAdam) and int(again.optimizer.iterations) == 2
    assert isinstance(again.layers[-1].kernel_constraint, MaxNorm)
    again.fit(x, y, epochs=1, verbose=0)
    assert int(again.optimizer.iterations) == 3


def test_l2_matches_keras_value_and_gradient():
    w = tf.Variable(np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32))
    for reg in (L2(5e-3), keras.regularizers.L2(5e-3)):
        with tf.GradientTape() as tape:
            value = reg(w)
        grad = tape.gradient(value, w)
        np.testing.assert_allclose(float(value), 5e-3 * float(tf.reduce_sum(w**2)), rtol=1e-5)
        np.testing.assert_allclose(grad.numpy(), 2 * 5e-3 * w.numpy(), rtol=1e-5)


@pytest.mark.parametrize("axis,shape", [(0, (30, 4)), ([0, 1], (8, 4, 5))])
def test_max_norm_matches_keras(axis, shape):
    rng = np.random.default_rng(0)
    w = rng.normal(size=shape).astype(np.float32) * 0.3
    w[..., 0] = 0.0  # an all-zero column stays zero, not NaN
    for limit in (0.5, 100.0):  # binding, and not binding (weights returned as they are)
        got = MaxNorm(limit, axis=axis)(tf.constant(w)).numpy()
        np.testing.assert_allclose(got, keras.constraints.MaxNorm(limit, axis=axis)(tf.constant(w)).numpy(),
                                   rtol=1e-5, atol=1e-7)
        norms = np.sqrt((got**2).sum(axis=tuple(np.atleast_1d(axis))))
        assert norms.max() <= limit * (1 + 1e-5) and np.isfinite(got).all()
    np.testing.assert_array_equal(MaxNorm(100.0, axis=axis)(tf.constant(w)).numpy(), w)
