"""Conv1D and Dense layers whose gradients run as the fastest kernels measured on the CPU.

Conv1D (stride 1): the filter gradient is one matmul per tap of the kernel,
``dw[k] = x[:, k:k+n]^T @ dy`` over batch and positions (:func:`filter_gradient`): a long-reduction
GEMM, which oneDNN runs at the matmul rate on any instruction set, where its backward-filter
convolution does not (2 Zen 4 cores, DeepSEA's second and third layers, batch 64 and 256: per-tap
matmuls 89-102 % of a 2048^2 matmul; the backward kernel 81-98 % with AVX-512 and 40-65 % with
oneDNN held to AVX2; a whole batch-64 step 6 % faster with AVX-512, 23 % held to AVX2). It is used
on CPUs without AVX-512 too, in place of the batch-as-channel forward convolution that ran well on
Zen 3 but at 31-40 % on Zen 4: a GEMM's rate is the one that holds from chip to chip. The input
gradient is oneDNN's backward-input kernel on CPUs with AVX-512 and, without it, a forward
convolution (the padded output gradient against the flipped, transposed kernel), measured faster
than the backward kernels on Zen 3 (AVX2: backward 86-108 GFLOP/s, forward 134-153); on Zen 4
both forms run alike (:func:`forward_product_convolutions`).

Dense: the input gradient ``dy @ W.T`` reads DeepSEA's 50,880 x 925 kernel across its rows; ``(W @
dy.T).T`` runs faster on both (Zen 3: 54 vs 124 GFLOP/s; Zen 4 AVX-512: 138 vs 163).

On a GPU cuDNN's and cuBLAS' own kernels are kept; ``set_fast_cpu_kernels(False)``
(``device.fast_cpu_kernels: false``) keeps Keras' kernels on the CPU too, ``True`` forces the
forward-convolution input gradient. These classes are a training-time detail: the ``model.keras``
a run writes holds Keras' own classes (:mod:`chromseq.models.portable`).
"""

from __future__ import annotations

import functools
import os

import keras
import tensorflow as tf


def conv1d_valid(x: tf.Tensor, w: tf.Tensor, *, forward_input_gradient: bool = True) -> tf.Tensor:
    """``tf.nn.conv1d(x, w, 1, "VALID")`` (x: batch x length x channels, w: width x in x out).

    The filter gradient is one matmul per tap (:func:`filter_gradient`); the input gradient is a
    forward convolution (``forward_input_gradient``) or oneDNN's backward-input kernel.
    """
    conv = _conv_forward_dx if forward_input_gradient else _conv_backward_dx
    return conv(tf.convert_to_tensor(x), tf.convert_to_tensor(w))


def filter_gradient(x: tf.Tensor, dy: tf.Tensor, width: int) -> tf.Tensor:
    """The kernel gradient of a stride-1 VALID convolution: ``dw[k] = sum_{n, t} x[n, t + k]^T dy[n, t]``.

    One (in x batch*positions) @ (batch*positions x out) matmul per tap: the long reduction that
    GEMM runs at its full rate on any instruction set.
    """
    c_in, c_out = (t.shape[-1] if t.shape[-1] is not None else tf.shape(t)[-1] for t in (x, dy))
    length = tf.shape(dy)[1]
    dy2 = tf.reshape(dy, [-1, c_out])
    return tf.stack([tf.matmul(tf.reshape(x[:, k:k + length], [-1, c_in]), dy2, transpose_a=True)
                     for k in range(width)])


def _input_gradient_forward(x, w, dy):
    width = tf.shape(w)[0]
    pad = tf.stack([[0, 0], [width - 1, width - 1], [0, 0]])
    return tf.nn.conv1d(tf.pad(dy, pad), tf.transpose(tf.reverse(w, [0]), [0, 2, 1]), 1, "VALID")


def _input_gradient_backward(x, w, dy):
    return tf.nn.conv1d_transpose(dy, w, tf.shape(x), 1, "VALID")


def _with_gradients(input_gradient):
    @tf.custom_gradient
    def conv(x, w):
        def grad(dy):
            return input_gradient(x, w, dy), filter_gradient(x, dy, w.shape[0])

        return tf.nn.conv1d(x, w, 1, "VALID"), grad

    return conv


_conv_forward_dx = _with_gradients(_input_gradient_forward)
_conv_backward_dx = _with_gradients(_input_gradient_backward)


_FAST: dict[str, bool | str] = {"cpu": "auto"}


def set_fast_cpu_kernels(mode: bool | str) -> None:
    """``"auto"`` (default): chromseq's gradients on the CPU, Conv1D's input gradient a forward
    convolution where oneDNN has no AVX-512; ``True``: that forward convolution on any CPU;
    ``False``: Keras' kernels. Read when a model is traced."""
    if mode not in (True, False, "auto"):
        raise ValueError(f"fast_cpu_kernels must be true, false or auto, got {mode!r}")
    _FAST["cpu"] = mode


def onednn_uses_avx512(cpu_flags: str | None = None, env: dict | None = None) -> bool:
    """Whether this CPU has AVX-512F (``cpu_flags`` defaults to /proc/cpuinfo's; none assumed
    where they cannot be read) and oneDNN is on. ``ONEDNN_MAX_CPU_ISA=AVX2`` does not change the
    answer: on a Zen 4 held to AVX2, oneDNN's backward-input kernel is still as fast as the forward
    convolution (batch 64: 94-97 % of the matmul rate against 86-92 %)."""
    env = os.environ if env is None else env
    if env.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() in ("0", "false"):
        return False  # Eigen's kernels: measured nowhere, keep the forward products
    return "avx512f" in (_cpu_flags() if cpu_flags is None else cpu_flags).split()


@functools.cache
def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1] for line in f if line.startswith("flags")), "")
    except OSError:
        return ""


def _keras_kernels() -> bool:
    return _FAST["cpu"] is False or bool(tf.config.list_logical_devices("GPU"))


def forward_product_convolutions() -> bool:
    """Whether :class:`Conv1D` computes its input gradient as a forward convolution (see the module)."""
    if _keras_kernels():
        return False
    return _FAST["cpu"] is True or not onednn_uses_avx512()


@keras.saving.register_keras_serializable(package="chromseq")
class Conv1D(keras.layers.Conv1D):
    """``keras.layers.Conv1D`` with :func:`conv1d_valid`'s gradients for stride 1, dilation 1.

    The same weights, outputs and gradients (up to float rounding); other settings, inputs with
    few channels (a per-tap matmul with 4 rows is too thin to pay; the first layer needs no input
    gradient) and GPUs fall back to Keras' convolution.
    """

    def call(self, inputs):
        if (tuple(self.strides) != (1,) or tuple(self.dilation_rate) != (1,) or self.groups != 1
                or self.data_format != "channels_last" or self.padding not in ("valid", "same")
                or inputs.shape[-1] < 16 or _keras_kernels()):
            return super().call(inputs)
        if self.padding == "same":  # TensorFlow's convention: the odd pad goes on the right
            width = self.kernel_size[0]
            inputs = tf.pad(inputs, [[0, 0], [(width - 1) // 2, width // 2], [0, 0]])
        outputs = conv1d_valid(inputs, self.kernel, forward_input_gradient=forward_product_convolutions())
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return outputs if self.activation is None else self.activation(outputs)


@tf.custom_gradient
def _matmul(x, w):
    def grad(dy):
        return tf.transpose(tf.matmul(w, dy, transpose_b=True)), tf.matmul(x, dy, transpose_a=True)

    return tf.matmul(x, w), grad


def matmul(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """``x @ w`` for a 2-D ``x``, with the input gradient computed as ``(w @ dy.T).T``."""
    return _matmul(tf.convert_to_tensor(x), tf.convert_to_tensor(w))


@keras.saving.register_keras_serializable(package="chromseq")
class Dense(keras.layers.Dense):
    """``keras.layers.Dense`` with :func:`matmul`'s input gradient for 2-D inputs on the CPU."""

    def call(self, inputs, training=None):
        if (len(inputs.shape) != 2 or getattr(self, "lora_enabled", False)
                or getattr(self, "quantization_mode", None) or _keras_kernels()):
            return super().call(inputs, training=training)
        x = matmul(inputs, self.kernel)
        if self.bias is not None:
            x = tf.nn.bias_add(x, self.bias)
        return x if self.activation is None else self.activation(x)
