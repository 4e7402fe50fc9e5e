"""Losses: binary cross-entropy with per-feature positive weights for rare features."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="chromseq")
class WeightedBCE(keras.losses.Loss):
    """BCE where the positives of feature k weigh ``pos_weight[k]`` (e.g. neg/pos, clipped)."""

    def __init__(self, pos_weight: list[float], name: str = "weighted_bce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pos_weight = list(pos_weight)

    def call(self, y_true, y_pred):
        eps = 1e-7
        p = ops.clip(ops.cast(y_pred, "float32"), eps, 1 - eps)
        y = ops.cast(y_true, "float32")
        w = ops.convert_to_tensor(self.pos_weight, dtype="float32")
        return -ops.mean(w * y * ops.log(p) + (1 - y) * ops.log(1 - p), axis=-1)

    def get_config(self):
        return {**super().get_config(), "pos_weight": self.pos_weight}
