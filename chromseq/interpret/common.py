"""Helpers shared by the interpretation methods."""

from __future__ import annotations

from chromseq.errors import ChromseqError


def score_model(model, logits: bool = True):
    """The model itself, or a view of it that outputs the pre-sigmoid logits."""
    if not logits:
        return model
    import keras

    try:
        layer = model.get_layer("logits")
    except ValueError:
        return model
    return keras.Model(model.input, layer.output)


def check_feature(feature: int, model) -> int:
    k = model.output_shape[-1]
    if not 0 <= int(feature) < k:
        raise ChromseqError(f"feature {feature} does not exist: the model has features 0..{k - 1}")
    return int(feature)


def has_flatten(model) -> bool:
    return any(type(layer).__name__ == "Flatten" for layer in model.layers)
