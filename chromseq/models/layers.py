"""Conv1D and Dense layers whose gradients can run as forward products on the CPU.

Conv1D: both gradients of a stride-1 convolution are themselves forward convolutions (the input
gradient: the padded output gradient against the flipped, transposed kernel; the filter gradient:
the input against the output gradient with the batch as the channel axis). Where oneDNN runs with
AVX2 only, its forward kernels are faster than its backward ones (2 Zen 3 cores, DeepSEA's second
and third layers at batch 256: backward 86-108 GFLOP/s, forward 134-153), and the forward
products cut a DeepSEA step by about a sixth. On an AVX-512 CPU it is the other way round (2 Zen 4
cores, batch 256: oneDNN's backward kernels 161-208 GFLOP/s, the forward products 85-106, and
still 2.6 vs 4.1 s for the second layer with oneDNN held to AVX2), so by default (``"auto"``)
they are used only on CPUs without AVX-512 (:func:`forward_product_convolutions`).

Dense: the input gradient ``dy @ W.T`` reads DeepSEA's 50,880 x 925 kernel across its rows; ``(W @
dy.T).T`` runs faster on both (Zen 3: 54 vs 124 GFLOP/s; Zen 4 AVX-512: 138 vs 163).

On a GPU cuDNN's and cuBLAS' own kernels are kept; ``set_fast_cpu_kernels(False)``
(``device.fast_cpu_kernels: false``) keeps Keras' kernels on the CPU too, ``True`` forces the
forward products. These classes are a training-time detail: the ``model.keras`` a run writes holds
Keras' own classes (:mod:`chromseq.models.portable`).
"""

from __future__ import annotations

import functools
import os

import keras
import tensorflow as tf


def conv1d_valid(x: tf.Tensor, w: tf.Tensor) -> tf.Tensor:
    """``tf.nn.conv1d(x, w, 1, "VALID")`` (x: batch x length x channels, w: width x in x out)."""
    return _conv1d_valid(tf.convert_to_tensor(x), tf.convert_to_tensor(w))


@tf.custom_gradient
def _conv1d_valid(x, w):
    y = tf.nn.conv1d(x, w, 1, "VALID")

    def grad(dy):
        width = tf.shape(w)[0]
        pad = tf.stack([[0, 0], [width - 1, width - 1], [0, 0]])
        dx = tf.nn.conv1d(tf.pad(dy, pad), tf.transpose(tf.reverse(w, [0]), [0, 2, 1]), 1, "VALID")
        dw = tf.nn.conv1d(tf.transpose(x, [2, 1, 0]), tf.transpose(dy, [1, 0, 2]), 1, "VALID")
        return dx, tf.transpose(dw, [1, 0, 2])

    return y, grad


_FAST: dict[str, bool | str] = {"cpu": "auto"}


def set_fast_cpu_kernels(mode: bool | str) -> None:
    """``"auto"`` (default): the forward-product gradients where they are measured faster (Dense
    always, Conv1D where oneDNN has no AVX-512); ``True``: always on the CPU; ``False``: Keras'
    kernels. Read when a model is traced."""
    if mode not in (True, False, "auto"):
        raise ValueError(f"fast_cpu_kernels must be true, false or auto, got {mode!r}")
    _FAST["cpu"] = mode


def onednn_uses_avx512(cpu_flags: str | None = None, env: dict | None = None) -> bool:
    """Whether this CPU has AVX-512F (``cpu_flags`` defaults to /proc/cpuinfo's; none assumed
    where they cannot be read) and oneDNN is on. ``ONEDNN_MAX_CPU_ISA=AVX2`` does not change the
    answer: on a Zen 4 held to AVX2, oneDNN's backward kernels still beat the forward products."""
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
    """Whether :class:`Conv1D` computes its gradients as forward convolutions (see the module)."""
    if _keras_kernels():
        return False
    return _FAST["cpu"] is True or not onednn_uses_avx512()


@keras.saving.register_keras_serializable(package="chromseq")
class Conv1D(keras.layers.Conv1D):
    """``keras.layers.Conv1D`` with :func:`conv1d_valid`'s gradients for stride 1, dilation 1.

    The same weights, outputs and gradients (up to float rounding); other settings, inputs with
    few channels (where TensorFlow's filter gradient is already cheap and the batch-as-channel
    convolution would be long and thin) and GPUs fall back to Keras' convolution.
    """

    def call(self, inputs):
        if (tuple(self.strides) != (1,) or tuple(self.dilation_rate) != (1,) or self.groups != 1
                or self.data_format != "channels_last" or self.padding not in ("valid", "same")
                or inputs.shape[-1] < 16 or not forward_product_convolutions()):
            return super().call(inputs)
        if self.padding == "same":  # TensorFlow's convention: the odd pad goes on the right
            width = self.kernel_size[0]
            inputs = tf.pad(inputs, [[0, 0], [(width - 1) // 2, width // 2], [0, 0]])
        outputs = conv1d_valid(inputs, self.kernel)
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
