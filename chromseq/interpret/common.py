"""Helpers shared by the interpretation methods."""

from __future__ import annotations


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


def has_flatten(model) -> bool:
    """Whether the model flattens its sequence axis (then it takes one length only)."""
    return any(type(layer).__name__ == "Flatten" for layer in model.layers)
