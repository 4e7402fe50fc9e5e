"""The common output head: logits then a float32 sigmoid, so callers can reach the logits."""

from __future__ import annotations

import keras


def sigmoid_head(x, n_features: int, **dense_kwargs):
    """``Dense(K, name="logits")`` -> ``Activation("sigmoid", name="output")``, both float32.

    The output layer stays float32 under a mixed bf16/fp16 policy: logits keep their precision
    and an activity regularizer on them adds a float32 loss (a bf16 one breaks Keras' loss sum).
    """
    logits = keras.layers.Dense(n_features, name="logits", dtype="float32", **dense_kwargs)(x)
    return keras.layers.Activation("sigmoid", name="output", dtype="float32")(logits)


def sequence_input(seq_len: int | None):
    """One-hot input (L, 4); ``seq_len=None`` for models that accept any length."""
    return keras.Input((seq_len, 4), name="sequence")
