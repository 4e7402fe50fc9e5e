"""DanQ (Quang & Xie 2016): a convolution for motifs, a BiLSTM for their grammar."""

from __future__ import annotations

import keras

from chromseq.models.activations import activation
from chromseq.models.heads import sequence_input, sigmoid_head


def build_danq(
    seq_len: int,
    n_features: int,
    *,
    conv_filters: int = 320,
    conv_width: int = 26,
    pool_size: int = 13,
    lstm_units: int = 320,
    dropout: tuple[float, float] = (0.2, 0.5),
    dense_units: int = 925,
    recurrent_activation: str = "sigmoid",
    seya_bidirectional: bool = False,
) -> keras.Model:
    """Conv(320,26) ReLU - MaxPool(13,13) - drop .2 - BiLSTM(320+320) - drop .5 - Dense 925 - sigmoid.

    46.9 M parameters at L=1000, K=919. The LSTM keeps cuDNN-compatible settings.

    Two settings reproduce the published Theano model (its imported weights,
    :mod:`chromseq.interop.importers`): ``recurrent_activation="keras1_hard_sigmoid"`` (Keras 0.x
    gates) and ``seya_bidirectional=True``: DanQ's seya ``Bidirectional`` layer reversed the
    batch axis instead of time (``X[::-1]``, EderSantana/seya#32), so its second LSTM reads the
    sequence forward too.
    """
    inputs = sequence_input(seq_len)
    x = keras.layers.Conv1D(conv_filters, conv_width, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling1D(pool_size, pool_size, name="pool1")(x)
    x = keras.layers.Dropout(dropout[0], name="drop1")(x)
    gates = activation(recurrent_activation)
    if seya_bidirectional:
        x = keras.layers.Concatenate(name="bilstm")([
            keras.layers.LSTM(lstm_units, return_sequences=True, recurrent_activation=gates, name="lstm_1")(x),
            keras.layers.LSTM(lstm_units, return_sequences=True, recurrent_activation=gates, name="lstm_2")(x)])
    else:
        x = keras.layers.Bidirectional(keras.layers.LSTM(lstm_units, return_sequences=True,
                                                         recurrent_activation=gates), name="bilstm")(x)
    x = keras.layers.Dropout(dropout[1], name="drop2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
    return keras.Model(inputs, sigmoid_head(x, n_features), name="danq")
