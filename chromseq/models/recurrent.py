"""Recurrent models: a two-layer GRU stack, Zhang & Kamath's bidirectional GRU, the Clockwork RNN.

They accept any sequence length (input (None, 4)), which the temporal output scores use.
GRU settings stay cuDNN-compatible (default activations, no recurrent dropout, reset_after).
"""

from __future__ import annotations

import keras

from chromseq.models.clockwork import ClockworkCell
from chromseq.models.heads import sequence_input, sigmoid_head


def build_gru_stack(seq_len: int, n_features: int, *, units: tuple[int, ...] = (128, 128),
                    dropout: float = 0.0) -> keras.Model:
    """GRU(128, return_sequences) -> GRU(128) -> Dense(K, sigmoid): a plain recurrent baseline."""
    inputs = sequence_input(None)
    x = inputs
    for i, n in enumerate(units):
        x = keras.layers.GRU(n, return_sequences=i < len(units) - 1, dropout=dropout, name=f"gru{i + 1}")(x)
    return keras.Model(inputs, sigmoid_head(x, n_features), name="gru_stack")


def build_bigru(seq_len: int, n_features: int, *, embedding_dim: int = 2, units: int = 128, layers: int = 2,
                dropout: float = 0.05) -> keras.Model:
    """Zhang & Kamath: a 2-d base embedding, 2 bidirectional GRU(128) layers, dropout (keep 0.95)."""
    inputs = sequence_input(None)
    # a linear map of the one-hot is exactly an embedding lookup (N rows map to 0)
    x = keras.layers.Dense(embedding_dim, use_bias=False, name="embedding")(inputs)
    for i in range(layers):
        x = keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=i < layers - 1), name=f"bigru{i + 1}")(x)
        x = keras.layers.Dropout(dropout, name=f"drop{i + 1}")(x)
    return keras.Model(inputs, sigmoid_head(x, n_features), name="bigru")


def build_cwrnn(seq_len: int, n_features: int, *, module_size: int = 16, modules: int = 6,
                periods: list[int] | None = None, bidirectional: bool = True) -> keras.Model:
    """A (bidirectional) Clockwork RNN over the sequence -> Dense(K, sigmoid)."""
    inputs = sequence_input(None)
    rnn = keras.layers.RNN(ClockworkCell(module_size, modules, periods), name="cwrnn")
    x = keras.layers.Bidirectional(rnn, name="bicwrnn")(inputs) if bidirectional else rnn(inputs)
    return keras.Model(inputs, sigmoid_head(x, n_features), name="cwrnn")
