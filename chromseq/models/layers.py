"""Conv1D and Dense layers whose gradients run as forward products on the CPU.

Conv1D: oneDNN's forward convolution kernels are faster than its backward ones: on 2 Zen 3 cores, for
DeepSEA's second and third layers at batch 256, the input gradient runs at 86-104 GFLOP/s and the
filter gradient at 108 where a forward convolution of the same size runs at 134-153. Both gradients
of a stride-1 convolution are themselves forward convolutions (the input gradient: the padded output
gradient against the flipped, transposed kernel; the filter gradient: the input against the output
gradient with the batch as the channel axis), which cuts a DeepSEA training step by about a sixth.

Dense: the input gradient ``dy @ W.T`` runs at 54 GFLOP/s for DeepSEA's 50,880 x 925 kernel at
batch 256 (the transposed operand is read across its rows), ``(W @ dy.T).T`` at 124.

On a GPU cuDNN's and cuBLAS' own kernels are kept, and ``set_fast_cpu_kernels(False)``
(``device.fast_cpu_kernels: false``) keeps Keras' kernels on the CPU too. These classes are a
training-time detail: the ``model.keras`` a run writes holds Keras' own classes
(:mod:`chromseq.models.portable`).
"""

from __future__ import annotations

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


_FAST = {"cpu": True}


def set_fast_cpu_kernels(enabled: bool) -> None:
    """Use the forward-product gradients on the CPU (default) or Keras' own kernels; read when a model is traced."""
    _FAST["cpu"] = bool(enabled)


def _on_gpu() -> bool:
    return not _FAST["cpu"] or bool(tf.config.list_logical_devices("GPU"))


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
                or inputs.shape[-1] < 16 or _on_gpu()):
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
                or getattr(self, "quantization_mode", None) or _on_gpu()):
            return super().call(inputs, training=training)
        x = matmul(inputs, self.kernel)
        if self.bias is not None:
            x = tf.nn.bias_add(x, self.bias)
        return x if self.activation is None else self.activation(x)
