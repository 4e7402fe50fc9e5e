"""Small Keras models with hand-set weights, each with a NumPy float64 twin, for exact computation tests.

Inputs are one-hot (or all-zero N rows) and every weight is a small multiple of 1/4, so every
logit is a short sum of exactly representable numbers: float32 gets it bit for bit in any
summation order, whatever kernels oneDNN or Eigen pick (AVX2, AVX-512, oneDNN off), however
many threads split the work, even in bfloat16 arithmetic. Tests compare logits with ``==``.

Probabilities pass through a float32 sigmoid (vectorized ``exp`` differs between kernels by
an ulp or two); they are compared with ``PROB_ATOL``: 1e-6 is 16 float32 ulps of 1.0, while a
wrong window, weight or base moves a toy model's probability by more than 1e-3.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

PROB_ATOL = 1e-6
MOTIF = "GATAAGGCTT"
_COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def onehot(seqs: str | list[str], alphabet: str = "AGCT") -> np.ndarray:
    """(L, 4) or (N, L, 4) float64; anything but the four bases is an all-zero row (N)."""
    rows = lambda s: [[float(b == a) for a in alphabet] for b in s.upper()]  # noqa: E731
    return np.array(rows(seqs) if isinstance(seqs, str) else [rows(s) for s in seqs], np.float64)


def revcomp(seq: str) -> str:
    return "".join(_COMPLEMENT.get(b, "N") for b in reversed(seq.upper()))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


def dyadic(rng: np.random.Generator, shape, low: int = -8, high: int = 8) -> np.ndarray:
    """Random multiples of 1/4 in [low/4, high/4] (float64, exact in float32 and bfloat16)."""
    return rng.integers(low, high + 1, size=shape) / 4.0


@dataclass
class Toy:
    """A Keras model and the same function in NumPy float64 (``logits``, ``probs`` on (N, L, 4) arrays)."""

    model: keras.Model
    logits: object  # callable (N, L, 4) -> (N, K) float64
    sigmoid: bool = True
    kernel: np.ndarray | None = None  # motif_scanner: its filters (w, 4, 2) and their bias
    scan_bias: float | None = None

    def outputs(self, x) -> np.ndarray:
        """What the Keras model outputs: probabilities, or the logits of a model without a sigmoid."""
        z = self.logits(np.asarray(x, np.float64))
        return sigmoid(z) if self.sigmoid else z


def _head(logits_tensor, use_sigmoid: bool):
    if not use_sigmoid:
        return logits_tensor
    return keras.layers.Activation("sigmoid", name="output", dtype="float32")(logits_tensor)


def flatten_dense(weights: np.ndarray, bias: np.ndarray, *, use_sigmoid: bool = True) -> Toy:
    """logit_k = sum_{l,c} x[l, c] * weights[l, c, k] + bias[k]: Flatten -> Dense("logits") [-> sigmoid].

    Linear in the input: the logit gradient is ``weights[..., k]`` and a substitution at l changes
    the logit by ``weights[l, new, k] - weights[l, old, k]``.
    """
    weights = np.asarray(weights, np.float64)
    length, _, k = weights.shape
    inputs = keras.Input((length, 4), name="sequence")
    dense = keras.layers.Dense(k, name="logits")
    out = _head(dense(keras.layers.Flatten(name="flatten")(inputs)), use_sigmoid)
    model = keras.Model(inputs, out)
    dense.set_weights([weights.reshape(length * 4, k).astype("float32"), np.asarray(bias, "float32")])

    def logits(x):
        return np.einsum("nlc,lck->nk", x, weights) + bias

    return Toy(model, logits, use_sigmoid)


def per_base_pooling(conv_w: np.ndarray, conv_b: np.ndarray, dense_w: np.ndarray, dense_b: np.ndarray, *,
                     seq_len: int | None, pool: str = "avg") -> Toy:
    """Conv1D of width 1 (a score per base) -> global average or max pooling -> Dense("logits") -> sigmoid.

    A pooling head, so temporal scores apply; ``seq_len=None`` takes any length (the recurrent-model
    path of temporal scores). Average pooling is exact when the length is a power of 2.
    """
    conv_w, dense_w = np.asarray(conv_w, np.float64), np.asarray(dense_w, np.float64)
    inputs = keras.Input((seq_len, 4), name="sequence")
    conv = keras.layers.Conv1D(conv_w.shape[1], 1, name="per_base")
    pooling = keras.layers.GlobalAveragePooling1D() if pool == "avg" else keras.layers.GlobalMaxPooling1D()
    dense = keras.layers.Dense(dense_w.shape[1], name="logits")
    model = keras.Model(inputs, _head(dense(pooling(conv(inputs))), True))
    conv.set_weights([conv_w[None].astype("float32"), np.asarray(conv_b, "float32")])
    dense.set_weights([dense_w.astype("float32"), np.asarray(dense_b, "float32")])

    def logits(x):
        per_base = np.einsum("nlc,cf->nlf", x, conv_w) + conv_b
        pooled = per_base.mean(1) if pool == "avg" else per_base.max(1)
        return pooled @ dense_w + dense_b

    return Toy(model, logits)


def motif_scanner(motif: str = MOTIF, alphabet: str = "AGCT", *, seq_len: int | None = None,
                  padding: str = "valid", bias: float | None = None) -> Toy:
    """Two filters, ``motif`` and its reverse complement -> ReLU -> global max -> logit 10 * (h1 + h2) - 5.

    With the default bias -(w - 1) a filter outputs 1 on a full match and 0 everywhere else, so the
    logit is -5 (no copy), 5 (one strand) or 15 (a copy on each strand). ``bias=0`` gives graded
    activations (the number of matching bases).
    """
    w = len(motif)
    kernel = np.stack([onehot(motif, alphabet), onehot(revcomp(motif), alphabet)], -1)  # (w, 4, 2)
    b = -(w - 1.0) if bias is None else float(bias)
    inputs = keras.Input((seq_len, 4), name="sequence")
    conv = keras.layers.Conv1D(2, w, activation="relu", padding=padding, name="scan")
    hits = keras.layers.GlobalMaxPooling1D()(conv(inputs))
    dense = keras.layers.Dense(1, name="logits")
    model = keras.Model(inputs, _head(dense(hits), True))
    conv.set_weights([kernel.astype("float32"), np.full(2, b, "float32")])
    dense.set_weights([np.full((2, 1), 10.0, "float32"), np.array([-5.0], "float32")])

    def logits(x):
        return 10.0 * scan_activations(x, kernel, b, padding).max(1).sum(-1, keepdims=True) - 5.0

    return Toy(model, logits, kernel=kernel, scan_bias=b)


def scan_activations(x: np.ndarray, kernel: np.ndarray, bias: float, padding: str = "valid") -> np.ndarray:
    """ReLU(conv(x, kernel) + bias) as (N, P, F) by an explicit loop over window starts."""
    w = kernel.shape[0]
    if padding == "same":  # TensorFlow's convention: the odd pad goes on the right
        x = np.pad(x, ((0, 0), ((w - 1) // 2, w // 2), (0, 0)))
    starts = range(x.shape[1] - w + 1)
    acts = np.stack([np.einsum("nwc,wcf->nf", x[:, s:s + w], kernel) for s in starts], 1) + bias
    return np.maximum(acts, 0.0)
