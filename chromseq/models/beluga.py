"""Beluga (Zhou et al. 2018, ExPecto): DeepSEA with paired convolutions, 2000 bp, 2,002 features."""

from __future__ import annotations

import keras

from chromseq.models.heads import sequence_input, sigmoid_head
from chromseq.models.layers import Conv1D, Dense


def build_beluga(
    seq_len: int,
    n_features: int,
    *,
    conv_filters: tuple[int, int, int] = (320, 480, 640),
    conv_width: int = 8,
    pool_size: int = 4,
    dropout: tuple[float, float, float] = (0.2, 0.2, 0.5),
    dense_units: int = 2003,
) -> keras.Model:
    """Three blocks of two Conv(width 8) ReLU, 320/480/640 filters, the first two followed by
    dropout .2 and MaxPool(4); dropout .5 - Dense 2003 ReLU - sigmoid.

    As ExPecto's ``Beluga`` (FunctionLab/ExPecto ``chromatin.py``): at L=2000 the last block
    leaves 106 x 640 = 67,840 values for the Dense layer; K=2002 there.
    """
    inputs = sequence_input(seq_len)
    x = inputs
    for i, filters in enumerate(conv_filters):
        for j in (1, 2):
            x = Conv1D(filters, conv_width, activation="relu", name=f"conv{i + 1}_{j}")(x)
        x = keras.layers.Dropout(dropout[i], name=f"drop{i + 1}")(x)
        if i < len(conv_filters) - 1:
            x = keras.layers.MaxPooling1D(pool_size, name=f"pool{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = Dense(dense_units, activation="relu", name="dense")(x)
    return keras.Model(inputs, sigmoid_head(x, n_features), name="beluga")
