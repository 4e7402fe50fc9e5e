"""Models as plain Keras files: chromseq's training-speed layers swapped for Keras' own.

``Conv1D``/``Dense`` (gradients by faster kernels) and ``L2``/``MaxNorm`` (fewer passes over the
weights) compute what Keras' layers compute; they only change how training runs. A saved
``model.keras`` should not need chromseq to load, so :func:`portable_model` rebuilds a model with
the Keras classes and the same weights before it is written. Layers with no Keras equivalent (the
Clockwork RNN's cell) are kept; such a model still needs chromseq to load.
"""

from __future__ import annotations

import keras

from chromseq.models import layers as fast_layers
from chromseq.models import penalties

_LAYERS = {fast_layers.Conv1D: keras.layers.Conv1D, fast_layers.Dense: keras.layers.Dense}
_PENALTIES = {penalties.L2: keras.regularizers.L2, penalties.MaxNorm: keras.constraints.MaxNorm}


def _plain(obj):
    cls = _PENALTIES.get(type(obj))
    return obj if cls is None else cls(**obj.get_config())


_PENALTY_KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                 "kernel_constraint", "bias_constraint")


def _clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    config = layer.get_config()
    for key in _PENALTY_KEYS:
        value = getattr(layer, key, None)
        if type(value) in _PENALTIES:
            config[key] = keras.saving.serialize_keras_object(_plain(value))
    return _LAYERS.get(type(layer), type(layer)).from_config(config)


def _swappable(layer: keras.layers.Layer) -> bool:
    return type(layer) in _LAYERS or any(type(getattr(layer, k, None)) in _PENALTIES for k in _PENALTY_KEYS)


def needs_chromseq(model: keras.Model) -> bool:
    """Whether any layer, penalty or constraint of ``model`` is one of chromseq's own classes."""
    for layer in _all_layers(model):
        if type(layer).__module__.startswith("chromseq"):
            return True
        for key in _PENALTY_KEYS:
            if type(getattr(layer, key, None)).__module__.startswith("chromseq"):
                return True
    return False


def _all_layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def portable_model(model: keras.Model) -> keras.Model:
    """The same network with Keras' own layer classes and the same weights, uncompiled.

    Returns ``model`` itself when nothing needs swapping.
    """
    if not any(_swappable(layer) for layer in _all_layers(model)):
        return model
    clone = keras.models.clone_model(model, clone_function=_clone_layer)
    clone.set_weights(model.get_weights())
    return clone


def save_portable(model: keras.Model, path) -> None:
    """Write ``portable_model(model)`` to ``path`` (a ``.keras`` file), atomically."""
    from chromseq.outputs import atomic_output

    with atomic_output(path) as tmp:
        portable_model(model).save(tmp)
