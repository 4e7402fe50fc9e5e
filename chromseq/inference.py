"""One batch-prediction path shared by eval, predict, variant-effect and interpret.

``model.predict`` re-traces and spins up a data pipeline per call and measured 100-180
samples/s for DeepSEA on 2 cores, varying from call to call; a compiled forward function
over fixed-size batches gives a steady ~185. Batches are padded to ``batch_size`` so the
function is traced once.

The compiled functions are kept per model in a ``WeakKeyDictionary``: an entry goes when its
model is garbage-collected (the function holds only a weak reference to the model), so a
notebook that builds many models holds no more functions than it holds models.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from chromseq.data.encoding import check_alphabet, complement_permutation, convert_alphabet, one_hot
from chromseq.errors import ChromseqError

_FORWARD_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled_forward(model) -> Callable:
    """A ``tf.function`` calling ``model(x, training=False)``, cached while ``model`` lives."""
    import tensorflow as tf

    try:
        fn = _FORWARD_CACHE.get(model)
    except TypeError:  # neither hashable nor weakly referable: compile, do not cache
        return tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    if fn is None:
        ref = weakref.ref(model)
        fn = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True)
        _FORWARD_CACHE[model] = fn
    return fn


def model_input_spec(model) -> tuple[bool, int | None]:
    """(takes one-hot (N, L, 4), L) of ``model``; L is None for a model of any length.

    A model whose input shape is not known yet (a ``Sequential`` never called) is (False, None):
    its first call fixes its length, and later calls are checked against it.
    """
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        return False, None
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        shape = shape[0]
    if not isinstance(shape, tuple) or len(shape) != 3 or shape[-1] != 4:
        return False, None
    return True, shape[1]


def _unwrap(model, alphabet: str | None):
    """A run-like object (``.model`` and ``.alphabet``, e.g. ``apps.predict.RunModel``) -> its model
    and alphabet, refusing a different ``alphabet``."""
    if callable(model) or not (hasattr(model, "model") and hasattr(model, "alphabet")):
        return model, alphabet
    own = check_alphabet(model.alphabet)
    if alphabet is not None and check_alphabet(alphabet) != own:
        raise ChromseqError(f"alphabet={alphabet!r} but the model reads {own} (its run's dataset.json)")
    return model.model, own


def predict_batches(
    model,
    x,
    *,
    batch_size: int = 256,
    rc_average: bool = False,
    alphabet: str | None = None,
    verbose: bool = False,
    desc: str = "predict",
) -> np.ndarray:
    """Predictions of ``model`` for N sequences, as float32 (N, K), in batches of ``batch_size``.

    ``x`` is one of:

    * one-hot (N, L, 4), channels in the model's alphabet order: any array-like supporting
      slicing (NumPy, h5py dataset views);
    * a sequence string or a list of N equal-length strings: encoded with
      ``one_hot(x, alphabet, strict=False)`` (N and other letters: all-zero rows), so
      ``alphabet`` is required;
    * a dataset from ``open_dataset`` (its ``.alphabet`` is converted to ``alphabet`` when they
      differ; without ``alphabet`` the model is taken to read the dataset's).

    ``alphabet`` is the base order the model reads: its run's ``dataset.json`` alphabet,
    ``"AGCT"`` for DeepSEA-layout models. ``model`` may also be an object with ``.model`` and
    ``.alphabet`` (``RunModel.load(run)``), whose alphabet is used and checked against ``alphabet``.
    With ``rc_average`` the prediction is the mean over each sequence and its reverse
    complement (complemented in ``alphabet`` order, so it is required then too).

    L must be the model's input length (its ``input_shape[1]``) unless the model takes any
    length (``input_shape[1]`` is None, e.g. the recurrent models): a mismatch is a one-line
    ``ChromseqError``, never a crop.
    """
    model, alphabet = _unwrap(model, alphabet)
    if alphabet is not None:
        alphabet = check_alphabet(alphabet)
    if isinstance(x, str) or (isinstance(x, Sequence) and len(x) and isinstance(x[0], str)):
        if alphabet is None:
            raise ChromseqError("predict_batches on strings needs alphabet= (the model's base order, e.g. 'AGCT' "
                                "for DeepSEA-layout models: its run's dataset.json)")
        x = one_hot([x] if isinstance(x, str) else list(x), alphabet, strict=False)
    elif hasattr(x, "read") and hasattr(x, "alphabet") and hasattr(x, "seq_len"):  # an open dataset
        x = _DatasetView(x, alphabet)
        alphabet = alphabet or x.alphabet
    elif not hasattr(x, "shape"):
        x = np.asarray(x, dtype=np.float32)
    if rc_average and alphabet is None:
        raise ChromseqError("rc_average needs alphabet= (the model's base order, e.g. 'AGCT' for DeepSEA-layout "
                            "models) to complement the sequences")
    n = len(x)
    one_hot_input, length = model_input_spec(model)
    shape = tuple(x.shape[1:])
    if one_hot_input and n and (len(shape) != 2 or shape[1] != 4):
        raise ChromseqError(f"the model takes one-hot sequences (N, L, 4), given an array of shape {tuple(x.shape)}")
    if one_hot_input and n and length is not None and shape[0] != length:
        raise ChromseqError(f"the model takes sequences of {length} bp, given {shape[0]} bp "
                            f"(shape {tuple(x.shape)}); crop or pad them to {length} bp first")
    fn = compiled_forward(model)
    perm = complement_permutation(alphabet) if rc_average else None
    outputs: list[np.ndarray] = []
    for start in tqdm(range(0, n, batch_size), disable=not verbose, desc=desc, unit="batch"):
        batch = np.asarray(x[start : start + batch_size], dtype=np.float32)
        m = len(batch)
        if m < batch_size and n > batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - m, *batch.shape[1:]), np.float32)])
        pred = np.asarray(fn(batch))
        if rc_average:
            rc = np.ascontiguousarray(batch[:, ::-1, :][:, :, perm])
            pred = 0.5 * (pred + np.asarray(fn(rc)))
        outputs.append(pred[:m].astype(np.float32))
    if not outputs:
        out_shape = model.output_shape[1:] if hasattr(model, "output_shape") else ()
        return np.zeros((0, *[d or 0 for d in out_shape]), np.float32)
    return np.concatenate(outputs)


class _DatasetView:
    """Slices of an open dataset's one-hot x (in ``alphabet`` order when given)."""

    def __init__(self, ds, alphabet: str | None):
        self.ds, self.alphabet = ds, ds.alphabet
        self.target = alphabet
        self.shape = (len(ds), ds.seq_len, 4)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, item: slice) -> np.ndarray:
        start, stop, _ = item.indices(len(self))
        x = self.ds.read(start, stop)[0]
        return convert_alphabet(x, self.alphabet, self.target) if self.target and self.target != self.alphabet else x
