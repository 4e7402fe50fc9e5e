"""chromseq's Conv1D and Dense: Keras' outputs and gradients, computed through forward products."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from chromseq.models.layers import Conv1D, Dense, conv1d_valid


def _pair(padding, width, channels=24, filters=5):
    ours = Conv1D(filters, width, padding=padding, activation="relu")
    ref = keras.layers.Conv1D(filters, width, padding=padding, activation="relu")
    x = tf.random.stateless_normal((3, 31, channels), seed=(width, channels))
    ours.build(x.shape)
    ref.build(x.shape)
    ref.set_weights(ours.get_weights())
    return ours, ref, x


def _grads(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(tf.sin(tf.cast(y, tf.float32)) * tf.cast(y, tf.float32))  # a non-uniform upstream gradient
    return y, tape.gradient(loss, [x, *layer.trainable_weights])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("width", [3, 4, 8])
def test_outputs_and_gradients_match_keras(padding, width):
    ours, ref, x = _pair(padding, width)
    y, g = _grads(ours, x)
    y_ref, g_ref = _grads(ref, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    for a, b in zip(g, g_ref):  # input, kernel, bias
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_gradient_function_inside_tf_function_and_against_finite_differences():
    x = tf.random.stateless_normal((2, 9, 3), seed=(1, 2), dtype=tf.float64)
    w = tf.random.stateless_normal((4, 3, 2), seed=(3, 4), dtype=tf.float64)
    theirs, ours = tf.test.compute_gradient(conv1d_valid, [x, w])
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(a, b, atol=1e-8)

    @tf.function
    def kernel_grad(x, w):
        with tf.GradientTape() as tape:
            tape.watch(w)
            return tape.gradient(tf.reduce_sum(conv1d_valid(x, w) ** 2), w)

    with tf.GradientTape() as tape:
        tape.watch(w)
        expected = tape.gradient(tf.reduce_sum(tf.nn.conv1d(x, w, 1, "VALID") ** 2), w)
    np.testing.assert_allclose(kernel_grad(x, w), expected, atol=1e-10)


def test_few_input_channels_and_strides_use_keras_convolution():
    for kwargs, channels in (({}, 4), ({"strides": 2}, 24)):
        ours = Conv1D(5, 3, **kwargs)
        ref = keras.layers.Conv1D(5, 3, **kwargs)
        x = tf.random.stateless_normal((2, 20, channels), seed=(5, 6))
        ours.build(x.shape)
        ref.build(x.shape)
        ref.set_weights(ours.get_weights())
        np.testing.assert_allclose(ours(x), ref(x), rtol=1e-6, atol=1e-6)


def test_model_saves_and_loads(tmp_path):
    inputs = keras.Input((40, 16))
    model = keras.Model(inputs, keras.layers.GlobalMaxPooling1D()(Conv1D(4, 5, name="c")(inputs)))
    x = np.random.default_rng(0).normal(size=(2, 40, 16)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded.get_layer("c")) is Conv1D
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        ours, ref, x = _pair("valid", 8)
        y, g = _grads(ours, x)
        y_ref, g_ref = _grads(ref, x)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert y.dtype == tf.bfloat16 and g[1].dtype == tf.float32
    np.testing.assert_allclose(tf.cast(y, tf.float32), tf.cast(y_ref, tf.float32), rtol=0.05, atol=0.05)
    np.testing.assert_allclose(g[1], g_ref[1], rtol=0.1, atol=0.1 * float(tf.reduce_max(tf.abs(g_ref[1]))))


def test_the_layer_differentiates_through_forward_convolutions():
    ours, _, x = _pair("valid", 8)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(ours(x))
        return tape.gradient(loss, ours.kernel)

    ops = {op.type for op in step.get_concrete_function(x).graph.get_operations()}
    assert "Conv2D" in ops and not ops & {"Conv2DBackpropInput", "Conv2DBackpropFilter"}


def test_dense_matches_keras_and_never_reads_the_kernel_transposed():
    ours = Dense(6, activation="relu")
    ref = keras.layers.Dense(6, activation="relu")
    x = tf.random.stateless_normal((4, 11), seed=(7, 8))
    ours.build(x.shape)
    ref.build(x.shape)
    ref.set_weights(ours.get_weights())
    y, g = _grads(ours, x)
    y_ref, g_ref = _grads(ref, x)
    np.testing.assert_allclose(y, y_ref, rtol=1e-6, atol=1e-6)
    for a, b in zip(g, g_ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

    @tf.function
    def input_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            return tape.gradient(tf.reduce_sum(ours(x)), x)

    graph = input_grad.get_concrete_function(x).graph
    matmuls = [op for op in graph.get_operations() if op.type == "MatMul"]
    assert matmuls and not any(op.get_attr("transpose_b") and op.inputs[1].shape == ours.kernel.shape
                               for op in matmuls)
