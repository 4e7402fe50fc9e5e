"""Activations of published models that Keras 3 lacks, registered so saved models load.

* ``torch_threshold``: Torch's ``nn.Threshold(0, 1e-6)``, which the Lua DeepSEA (and the
  PyTorch conversions Kipoi and Selene distribute) uses where others use ReLU:
  ``x if x > 0 else 1e-6``.
* ``keras1_hard_sigmoid``: the hard sigmoid of Keras 0.x-2.x and Theano,
  ``clip(0.2 x + 0.5, 0, 1)``, the default gate activation of their LSTMs (DanQ's). Keras 3's
  ``hard_sigmoid`` is a different function (``clip(x / 6 + 0.5, 0, 1)``).
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="chromseq")
def torch_threshold(x):
    """``x`` where ``x > 0``, else 1e-6 (Torch ``nn.Threshold(0, 1e-6)``)."""
    return keras.ops.where(x > 0, x, keras.ops.cast(1e-6, x.dtype))


@keras.saving.register_keras_serializable(package="chromseq")
def keras1_hard_sigmoid(x):
    """``clip(0.2 x + 0.5, 0, 1)``: Keras 1 / Theano ``hard_sigmoid``."""
    return keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)


ACTIVATIONS = {"relu": "relu", "sigmoid": "sigmoid", "torch_threshold": torch_threshold,
               "keras1_hard_sigmoid": keras1_hard_sigmoid}


def activation(name: str):
    """The activation called ``name`` (a Keras name or one of this module's), for a layer argument."""
    from chromseq.errors import ChromseqError

    if name not in ACTIVATIONS:
        raise ChromseqError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]
