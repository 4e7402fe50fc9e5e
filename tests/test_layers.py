"""chromseq's Conv1D and Dense: outputs and gradients against NumPy and against Keras' layers.

* Integer-valued inputs, weights and upstream gradients (half-integer biases, so no ReLU input is
  ever 0): every product and partial sum is exactly representable, so float32 (and bfloat16)
  arithmetic is exact in any order and on any kernel; outputs and gradients equal NumPy's bit for bit.
* float64 layers against NumPy float64.
* Random float32 data against Keras' layers, within the rounding-error bound of a sum of n products
  in any order, |error| <= gamma_n * sum |terms| with gamma_n = n u / (1 - n u), u = 2^-24, for each
  of the two implementations: a tolerance relative to the magnitude of what is summed.
"""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from chromseq.models import layers
from chromseq.models.layers import (
    Conv1D,
    Dense,
    conv1d_valid,
    forward_product_convolutions,
    onednn_uses_avx512,
    set_fast_cpu_kernels,
)

U32, U64 = 2.0**-24, 2.0**-53


@pytest.fixture(autouse=True)
def chromseq_kernels():
    """These tests check chromseq's gradient kernels themselves, on any CPU."""
    set_fast_cpu_kernels(True)
    yield
    set_fast_cpu_kernels("auto")


@pytest.fixture(params=["forward", "backward"])
def input_gradient(request, monkeypatch):
    """Conv1D's two input gradients: a forward convolution (CPUs without AVX-512) or oneDNN's
    backward-input kernel (AVX-512); the kernel gradient is the per-tap matmuls in both."""
    if request.param == "backward":
        monkeypatch.setattr(layers, "forward_product_convolutions", lambda: False)
    return request.param


def test_auto_uses_forward_products_only_on_cpus_without_avx512():
    avx512, avx2 = "fpu sse2 avx2 fma avx512f avx512bw", "fpu sse2 avx2 fma"
    assert onednn_uses_avx512(avx512, {})
    assert onednn_uses_avx512(avx512, {"ONEDNN_MAX_CPU_ISA": "AVX2"})  # the hardware decides (measured)
    assert not onednn_uses_avx512(avx512, {"TF_ENABLE_ONEDNN_OPTS": "0"})
    assert not onednn_uses_avx512(avx2, {})
    assert not onednn_uses_avx512("", {})
    set_fast_cpu_kernels(False)
    assert not forward_product_convolutions()
    on_cpu = not tf.config.list_logical_devices("GPU")  # a GPU keeps cuDNN's kernels whatever the switch
    set_fast_cpu_kernels(True)
    assert forward_product_convolutions() == on_cpu
    set_fast_cpu_kernels("auto")
    assert forward_product_convolutions() == (on_cpu and not onednn_uses_avx512())
    with pytest.raises(ValueError):
        set_fast_cpu_kernels("fast")


def _gamma(n, u=U32):
    return n * u / (1 - n * u)


# --- NumPy references -------------------------------------------------------------------------------

def _pad_same(x, width):
    return np.pad(x, ((0, 0), ((width - 1) // 2, width // 2), (0, 0)))  # TensorFlow: the odd pad on the right


def conv_ref(x, w, b, padding="valid"):
    """y[n, t, f] = sum_{k, c} x[n, t + k, c] w[k, c, f] + b[f], one output position at a time."""
    width = w.shape[0]
    xp = _pad_same(x, width) if padding == "same" else x
    return np.stack([np.einsum("nkc,kcf->nf", xp[:, t:t + width], w) for t in range(xp.shape[1] - width + 1)], 1) + b


def conv_grads_ref(x, w, dpre, padding="valid"):
    """Gradients (input, kernel, bias) of sum(pre * dpre) for pre = conv(x, w) + b, scattered position by position."""
    width, length = w.shape[0], x.shape[1]
    left = (width - 1) // 2 if padding == "same" else 0
    xp = _pad_same(x, width) if padding == "same" else x
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for t in range(dpre.shape[1]):
        dxp[:, t:t + width] += np.einsum("nf,kcf->nkc", dpre[:, t], w)
        dw += np.einsum("nkc,nf->kcf", xp[:, t:t + width], dpre[:, t])
    return dxp[:, left:left + length], dw, dpre.sum((0, 1))


def _ints(rng, shape, high=2):
    return rng.integers(-high, high + 1, size=shape).astype(np.float64)


def _grads(layer, x, upstream, dtype=tf.float32):
    """Output and gradients (input, *trainable weights) of sum(y * upstream): the upstream gradient is exact."""
    x = tf.constant(x, dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(tf.cast(y, upstream.dtype) * upstream)
    return y, tape.gradient(loss, [x, *layer.trainable_weights])


def _conv_pair(padding, width, channels=24, filters=5, activation=None, dtype=None):
    ours = Conv1D(filters, width, padding=padding, activation=activation, dtype=dtype)
    ref = keras.layers.Conv1D(filters, width, padding=padding, activation=activation, dtype=dtype)
    ours.build((None, None, channels))
    ref.build((None, None, channels))
    return ours, ref


# --- Conv1D -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("width", [3, 4, 8])
def test_conv_outputs_and_gradients_are_exact_on_integers(padding, width, input_gradient):
    rng = np.random.default_rng(width)
    ours, ref = _conv_pair(padding, width, activation="relu")
    x, w, b = _ints(rng, (3, 31, 24)), _ints(rng, (width, 24, 5)), _ints(rng, 5) + 0.5
    for layer in (ours, ref):
        layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
    pre = conv_ref(x, w, b, padding)
    assert np.abs(pre).min() >= 0.5  # no ReLU input at 0, where its derivative is a convention
    upstream = _ints(rng, pre.shape)
    dpre = upstream * (pre > 0)
    expected = [np.maximum(pre, 0), *conv_grads_ref(x, w, dpre, padding)]
    for layer in (ours, ref):
        y, grads = _grads(layer, x, tf.constant(upstream, tf.float32))
        for got, want in zip([y, *grads], expected):  # output, input, kernel, bias
            np.testing.assert_array_equal(got, want.astype(np.float32))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("width", [3, 8])
def test_conv_float64_matches_numpy(padding, width, input_gradient):
    rng = np.random.default_rng(10 + width)
    ours, _ = _conv_pair(padding, width, channels=16, dtype="float64")
    x, w, b = rng.normal(size=(2, 20, 16)), rng.normal(size=(width, 16, 5)), rng.normal(size=5)
    ours.set_weights([w, b])
    upstream = rng.normal(size=conv_ref(x, w, b, padding).shape)
    y, grads = _grads(ours, x, tf.constant(upstream), tf.float64)
    assert y.dtype == tf.float64
    expected = [conv_ref(x, w, b, padding), *conv_grads_ref(x, w, upstream, padding)]
    bounds = [conv_ref(np.abs(x), np.abs(w), np.abs(b), padding),
              *conv_grads_ref(np.abs(x), np.abs(w), np.abs(upstream), padding)]
    for got, want, bound in zip([y, *grads], expected, bounds):
        # both sides round, each by at most gamma_n of the summed magnitudes (n <= width * 16 + 1 terms)
        assert np.all(np.abs(np.asarray(got) - want) <= 2 * _gamma(width * 16 + 1, U64) * bound)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("width", [3, 4, 8])
def test_conv_float32_matches_keras_within_rounding(padding, width, input_gradient):
    rng = np.random.default_rng(20 + width)
    ours, ref = _conv_pair(padding, width)
    w = (0.2 * rng.normal(size=(width, 24, 5))).astype(np.float32).astype(np.float64)
    b = rng.normal(size=5).astype(np.float32).astype(np.float64)
    for layer in (ours, ref):
        layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
    x = rng.normal(size=(3, 31, 24)).astype(np.float32).astype(np.float64)
    upstream = rng.normal(size=conv_ref(x, w, b, padding).shape).astype(np.float32)
    got = _grads(ours, x, tf.constant(upstream))
    want = _grads(ref, x, tf.constant(upstream))
    a = np.abs(upstream.astype(np.float64))
    bounds = [conv_ref(np.abs(x), np.abs(w), np.abs(b), padding), *conv_grads_ref(np.abs(x), np.abs(w), a, padding)]
    terms = [width * 24 + 1, width * 5, 3 * 31, 3 * 31]  # products summed per output, input, kernel, bias entry
    for g, r, bound, n in zip([got[0], *got[1]], [want[0], *want[1]], bounds, terms):
        assert np.all(np.abs(np.asarray(g, np.float64) - np.asarray(r, np.float64)) <= 2 * _gamma(n) * bound)


@pytest.mark.parametrize("forward", [True, False])
def test_gradient_function_inside_tf_function_and_against_finite_differences(forward):
    x = tf.random.stateless_normal((2, 9, 3), seed=(1, 2), dtype=tf.float64)
    w = tf.random.stateless_normal((4, 3, 2), seed=(3, 4), dtype=tf.float64)
    conv = functools.partial(conv1d_valid, forward_input_gradient=forward)
    theirs, ours = tf.test.compute_gradient(conv, [x, w])
    for a, b in zip(theirs, ours):  # linear in each argument: central differences are exact up to rounding
        np.testing.assert_allclose(a, b, atol=1e-8)

    @tf.function
    def kernel_grad(x, w):
        with tf.GradientTape() as tape:
            tape.watch(w)
            return tape.gradient(tf.reduce_sum(conv(x, w) ** 2), w)

    y = conv_ref(x.numpy(), w.numpy(), 0.0)
    expected = conv_grads_ref(x.numpy(), w.numpy(), 2 * y)[1]
    np.testing.assert_allclose(kernel_grad(x, w), expected, rtol=1e-12, atol=1e-12)


def test_few_input_channels_and_strides_use_keras_convolution():
    rng = np.random.default_rng(5)
    for kwargs, channels in (({}, 4), ({"strides": 2}, 24)):
        ours = Conv1D(5, 3, **kwargs)
        ref = keras.layers.Conv1D(5, 3, **kwargs)
        ours.build((None, None, channels))
        ref.build((None, None, channels))
        w, b = _ints(rng, (3, channels, 5)), _ints(rng, 5)
        for layer in (ours, ref):
            layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
        x = _ints(rng, (2, 20, channels)).astype(np.float32)
        expected = conv_ref(x.astype(np.float64), w, b)[:, :: kwargs.get("strides", 1)]
        np.testing.assert_array_equal(ours(x), expected.astype(np.float32))
        np.testing.assert_array_equal(ref(x), expected.astype(np.float32))


def test_model_saves_and_loads(tmp_path):
    inputs = keras.Input((40, 16))
    conv = Conv1D(4, 5, name="c")
    model = keras.Model(inputs, keras.layers.GlobalMaxPooling1D()(conv(inputs)))
    rng = np.random.default_rng(0)
    w, b = _ints(rng, (5, 16, 4)), _ints(rng, 4)
    conv.set_weights([w.astype(np.float32), b.astype(np.float32)])
    x = _ints(rng, (2, 40, 16)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.get_layer("c"), Conv1D)
    for got, want in zip(loaded.get_layer("c").get_weights(), [w, b]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(loaded(x), conv_ref(x.astype(np.float64), w, b).max(1).astype(np.float32))


def _bfloat16_convolution_runs() -> bool:
    """False where TensorFlow's CPU kernels cannot convolve bfloat16 at all (oneDNN capped below AVX512_CORE)."""
    try:
        tf.nn.conv1d(tf.ones((1, 4, 2), tf.bfloat16), tf.ones((2, 2, 1), tf.bfloat16), 1, "VALID")
    except (tf.errors.AbortedError, tf.errors.InternalError, tf.errors.UnimplementedError):
        return False
    return True


def test_mixed_bfloat16_is_exact_on_small_integers(input_gradient):
    """Integers in {-1, 0, 1}: every partial sum is an integer below 2^8, exact in bfloat16."""
    if not _bfloat16_convolution_runs():
        pytest.skip("this CPU's TensorFlow kernels have no bfloat16 convolution (Keras' Conv1D fails as well)")
    rng = np.random.default_rng(6)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        ours, ref = _conv_pair("valid", 8)
        w = _ints(rng, (8, 24, 5), high=1)
        for layer in (ours, ref):
            layer.set_weights([w.astype(np.float32), np.zeros(5, np.float32)])
        x = _ints(rng, (3, 31, 24), high=1)
        upstream = _ints(rng, (3, 24, 5), high=1)
        results = [_grads(layer, x, tf.constant(upstream, tf.float32)) for layer in (ours, ref)]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    expected = [conv_ref(x, w, 0.0), *conv_grads_ref(x, w, upstream)]
    for y, grads in results:
        assert y.dtype == tf.bfloat16 and grads[1].dtype == tf.float32  # bfloat16 compute, float32 variables
        for got, want in zip([y, *grads], expected):
            np.testing.assert_array_equal(tf.cast(got, tf.float32), want.astype(np.float32))


def test_the_kernel_gradient_is_matmuls_and_the_input_gradient_as_chosen(input_gradient):
    ours, _ = _conv_pair("valid", 8)
    x = tf.zeros((3, 31, 24))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(ours(x))
        return tape.gradient(loss, [x, ours.kernel])

    ops = {op.type for op in step.get_concrete_function(x).graph.get_operations()}
    assert "MatMul" in ops and "Conv2DBackpropFilter" not in ops, sorted(ops)
    assert ("Conv2DBackpropInput" in ops) == (input_gradient == "backward"), sorted(ops)


# --- Dense ------------------------------------------------------------------------------------------

def _dense_expected(x, w, b, upstream):
    """Output and gradients (input, kernel, bias) of sum(y * upstream) for y = x @ w + b."""
    return [x @ w + b, upstream @ w.T, x.T @ upstream, upstream.sum(0)]


def test_dense_is_exact_on_integers_and_matches_float64():
    rng = np.random.default_rng(7)
    ours, ref = Dense(6), keras.layers.Dense(6)
    for layer in (ours, ref):
        layer.build((None, 11))
    x, w, b, upstream = _ints(rng, (4, 11)), _ints(rng, (11, 6)), _ints(rng, 6), _ints(rng, (4, 6))
    for layer in (ours, ref):
        layer.set_weights([w.astype(np.float32), b.astype(np.float32)])
        y, grads = _grads(layer, x, tf.constant(upstream, tf.float32))
        for got, want in zip([y, *grads], _dense_expected(x, w, b, upstream)):
            np.testing.assert_array_equal(got, want.astype(np.float32))
    wide = Dense(6, dtype="float64")
    wide.build((None, 11))
    x, w, b, upstream = (rng.normal(size=s) for s in ((4, 11), (11, 6), 6, (4, 6)))
    wide.set_weights([w, b])
    y, grads = _grads(wide, x, tf.constant(upstream), tf.float64)
    bounds = _dense_expected(np.abs(x), np.abs(w), np.abs(b), np.abs(upstream))
    for got, want, bound in zip([y, *grads], _dense_expected(x, w, b, upstream), bounds):
        assert np.all(np.abs(np.asarray(got) - want) <= 2 * _gamma(12, U64) * bound)


def test_dense_float32_matches_keras_and_never_reads_the_kernel_transposed():
    ours = Dense(6, activation="relu")
    ref = keras.layers.Dense(6, activation="relu")
    ours.build((None, 11))
    ref.build((None, 11))
    rng = np.random.default_rng(8)
    w = rng.normal(size=(11, 6)).astype(np.float32)
    b = (rng.integers(-2, 3, 6) + 0.5).astype(np.float32)
    for layer in (ours, ref):
        layer.set_weights([w, b])
    x = rng.integers(-2, 3, (4, 11)).astype(np.float32)  # integer inputs: x @ w has no cancellation near 0 ...
    pre = x.astype(np.float64) @ w + b
    assert np.abs(pre).min() > 1e-3  # ... far from ReLU's kink, so both masks agree
    upstream = rng.normal(size=(4, 6)).astype(np.float32)
    got, want = _grads(ours, x, tf.constant(upstream)), _grads(ref, x, tf.constant(upstream))
    mask = pre > 0
    a = np.abs(upstream.astype(np.float64)) * mask
    bounds = [np.abs(x) @ np.abs(w) + np.abs(b), a @ np.abs(w).T, np.abs(x).T @ a, a.sum(0)]
    for g, r, bound, n in zip([got[0], *got[1]], [want[0], *want[1]], bounds, [12, 6, 4, 4]):
        assert np.all(np.abs(np.asarray(g, np.float64) - np.asarray(r, np.float64)) <= 2 * _gamma(n) * bound)

    @tf.function
    def input_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            return tape.gradient(tf.reduce_sum(ours(x)), x)

    graph = input_grad.get_concrete_function(tf.constant(x)).graph
    matmuls = [op for op in graph.get_operations() if op.type == "MatMul" or op.type.startswith("BatchMatMul")]

    def reads_kernel_transposed(op):
        flag = op.get_attr("transpose_b") if op.type == "MatMul" else op.get_attr("adj_y")
        return flag and tuple(op.inputs[1].shape) == tuple(ours.kernel.shape)

    assert matmuls and not any(reads_kernel_transposed(op) for op in matmuls)
