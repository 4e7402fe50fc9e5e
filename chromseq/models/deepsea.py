"""DeepSEA (Zhou & Troyanskaya 2015), as in the reference Lua/Torch code."""

from __future__ import annotations

import keras

from chromseq.models.activations import activation as get_activation
from chromseq.models.heads import sequence_input, sigmoid_head
from chromseq.models.layers import Conv1D, Dense
from chromseq.models.penalties import L2, MaxNorm


def build_deepsea(
    seq_len: int,
    n_features: int,
    *,
    conv_filters: tuple[int, int, int] = (320, 480, 960),
    conv_width: int = 8,
    pool_size: int = 4,
    dropout: tuple[float, float, float] = (0.2, 0.2, 0.5),
    dense_units: int = 925,
    l2: float = 5e-7,
    max_norm: float | None = 0.9,
    l1_activity: float = 1e-8,
    activation: str = "relu",
) -> keras.Model:
    """Conv(320,8)-pool4-drop .2 - Conv(480,8)-pool4-drop .2 - Conv(960,8)-drop .5 - Dense 925 - sigmoid.

    52.8 M parameters at L=1000, K=919. ``l2`` on weights, ``max_norm`` on every layer and
    ``l1_activity`` on the final pre-sigmoid activity follow the reference recipe (0 / None
    turn them off). ``activation="torch_threshold"`` is the Lua model's ``nn.Threshold(0, 1e-6)``
    (for its imported weights, :mod:`chromseq.interop.importers`).
    """
    reg = L2(l2) if l2 else None
    norm = (lambda axes: MaxNorm(max_norm, axis=axes)) if max_norm else (lambda axes: None)
    inputs = sequence_input(seq_len)
    x = inputs
    for i, filters in enumerate(conv_filters):
        x = Conv1D(filters, conv_width, activation=get_activation(activation), kernel_regularizer=reg,
                                kernel_constraint=norm([0, 1]), name=f"conv{i + 1}")(x)
        if i < len(conv_filters) - 1:
            x = keras.layers.MaxPooling1D(pool_size, name=f"pool{i + 1}")(x)
        x = keras.layers.Dropout(dropout[i], name=f"drop{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = Dense(dense_units, activation=get_activation(activation), kernel_regularizer=reg,
                           kernel_constraint=norm(0), name="dense")(x)
    outputs = sigmoid_head(x, n_features, kernel_regularizer=reg, kernel_constraint=norm(0),
                           activity_regularizer=keras.regularizers.L1(l1_activity) if l1_activity else None)
    return keras.Model(inputs, outputs, name="deepsea")
