"""Clockwork RNN (Koutník et al. 2014) as a Keras RNN cell.

Hidden units form ``g`` modules of ``k`` units with periods T_i (1, 2, 4, ... by default).
At step t module i updates only when t mod T_i == 0 and otherwise keeps its state exactly
(a ``where``, not a multiplication, so the bits do not change). Recurrent weights are
block-triangular: module i reads modules j >= i (itself and slower ones), so slow modules feed
fast ones and never the reverse. Only the non-zero blocks are weights: the recurrent part has
k^2 g(g+1)/2 parameters. The step counter is part of the state, so the cell works inside
``keras.layers.RNN`` and ``Bidirectional`` without knowing the sequence position.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="chromseq")
class ClockworkCell(keras.layers.Layer):
    """Clockwork RNN cell with ``modules`` modules of ``module_size`` units each."""

    def __init__(self, module_size: int = 16, modules: int = 8, periods: list[int] | None = None,
                 activation: str = "tanh", **kwargs):
        super().__init__(**kwargs)
        self.module_size = int(module_size)
        self.n_modules = int(modules)
        self.periods = [int(p) for p in (periods or [2**i for i in range(self.n_modules)])]
        if len(self.periods) != self.n_modules:
            raise ValueError(f"{len(self.periods)} periods given for {self.n_modules} modules")
        self.activation = keras.activations.get(activation)
        self.units = self.module_size * self.n_modules
        self.state_size = [self.units, 1]
        self.output_size = self.units

    def build(self, input_shape):
        k, g = self.module_size, self.n_modules
        self.input_kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                            name="input_kernel")
        # block column i: rows from modules i..g-1 (same or slower) into module i
        self.recurrent_blocks = [
            self.add_weight(shape=(k * (g - i), k), initializer="orthogonal", name=f"recurrent_{i}")
            for i in range(g)
        ]
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        unit_periods = [p for p in self.periods for _ in range(k)]
        self._unit_periods = ops.convert_to_tensor(unit_periods, dtype="float32")

    def call(self, inputs, states, training=None):
        h, t = states[0], states[1]
        k = self.module_size
        recurrent = ops.concatenate(
            [ops.matmul(h[:, i * k :], block) for i, block in enumerate(self.recurrent_blocks)], axis=-1)
        candidate = self.activation(ops.matmul(inputs, self.input_kernel) + recurrent + self.bias)
        step = ops.cast(t, "float32")  # (B, 1)
        active = ops.equal(ops.mod(step, self._unit_periods[None, :]), 0.0)
        h_new = ops.where(active, ops.cast(candidate, h.dtype), h)
        return h_new, [h_new, t + ops.cast(1, t.dtype)]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype),
                ops.zeros((batch_size, 1), dtype=self.compute_dtype)]

    def get_config(self):
        return {**super().get_config(), "module_size": self.module_size, "modules": self.n_modules,
                "periods": self.periods, "activation": keras.activations.serialize(self.activation)}
