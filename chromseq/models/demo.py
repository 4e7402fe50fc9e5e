"""The Deep Motif Dashboard's models (Lanchantin et al. 2017): CNN, RNN and CNN-RNN."""

from __future__ import annotations

import keras

from chromseq.models.heads import sequence_input, sigmoid_head


def build_demo_cnn(seq_len: int, n_features: int, *, filters: int = 128, widths: tuple[int, ...] = (9, 5, 3),
                   pool_size: int = 2, dropout: float = 0.5) -> keras.Model:
    """3 x Conv1D(128) widths 9, 5, 3 with ReLU, max-pool 2 after the first two, dropout, global max pool."""
    inputs = sequence_input(seq_len)
    x = inputs
    for i, w in enumerate(widths):
        x = keras.layers.Conv1D(filters, w, padding="same", activation="relu", name=f"conv{i + 1}")(x)
        if i < len(widths) - 1:
            x = keras.layers.MaxPooling1D(pool_size, name=f"pool{i + 1}")(x)
    x = keras.layers.Dropout(dropout, name="drop")(x)
    x = keras.layers.GlobalMaxPooling1D(name="global_max")(x)
    return keras.Model(inputs, sigmoid_head(x, n_features), name="demo_cnn")


def _rnn_head(x, units: int):
    # per-direction outputs averaged over time and concatenated == mean of the concatenation
    x = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    return keras.layers.GlobalAveragePooling1D(name="time_mean")(x)


def build_demo_rnn(seq_len: int, n_features: int, *, units: int = 32) -> keras.Model:
    """BiLSTM(32), outputs averaged over time per direction, concatenated, Dense."""
    inputs = sequence_input(None)
    return keras.Model(inputs, sigmoid_head(_rnn_head(inputs, units), n_features), name="demo_rnn")


def build_demo_cnn_rnn(seq_len: int, n_features: int, *, filters: int = 128, width: int = 9,
                       units: int = 32) -> keras.Model:
    """Conv1D(128, 9, same) ReLU -> the demo_rnn head."""
    inputs = sequence_input(None)
    x = keras.layers.Conv1D(filters, width, padding="same", activation="relu", name="conv1")(inputs)
    return keras.Model(inputs, sigmoid_head(_rnn_head(x, units), n_features), name="demo_cnn_rnn")
