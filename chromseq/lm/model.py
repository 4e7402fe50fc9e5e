"""Next-nucleotide models: an embedding of the bases, 1-3 recurrent layers, a softmax over A/C/G/T."""

from __future__ import annotations

import keras

from chromseq.errors import ChromseqError
from chromseq.models.clockwork import ClockworkCell

CELLS = ("gru", "lstm", "simple", "cwrnn")


def build_lm(cell: str = "gru", units: int = 128, layers: int = 2, embedding_dim: int = 8, dropout: float = 0.0,
             cw_modules: int = 4) -> keras.Model:
    """Input (None,) base indices (4 = N) -> per-position probabilities of the next base (None, 4)."""
    if cell not in CELLS:
        raise ChromseqError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    if not 1 <= layers <= 3:
        raise ChromseqError(f"layers must be 1-3, got {layers}")
    inputs = keras.Input((None,), dtype="int32", name="bases")
    x = keras.layers.Embedding(5, embedding_dim, name="embedding")(inputs)
    for i in range(layers):
        if cell == "gru":
            rnn = keras.layers.GRU(units, return_sequences=True, dropout=dropout, name=f"gru{i + 1}")
        elif cell == "lstm":
            rnn = keras.layers.LSTM(units, return_sequences=True, dropout=dropout, name=f"lstm{i + 1}")
        elif cell == "simple":
            rnn = keras.layers.SimpleRNN(units, return_sequences=True, dropout=dropout, name=f"rnn{i + 1}")
        else:
            size = max(1, units // cw_modules)
            rnn = keras.layers.RNN(ClockworkCell(size, cw_modules), return_sequences=True, name=f"cwrnn{i + 1}")
        x = rnn(x)
    outputs = keras.layers.Dense(4, activation="softmax", dtype="float32", name="next_base")(x)
    return keras.Model(inputs, outputs, name=f"lm_{cell}")
