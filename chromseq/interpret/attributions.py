"""Signed attributions: gradient x input, integrated gradients and DeepLIFT/DeepSHAP.

Every method takes one-hot ``x`` (N, L, 4) in the model's alphabet and one output ``feature``
and returns :class:`Attributions`: ``contributions`` (N, L, 4), signed, and ``hypothetical``
(N, L, 4), what each base would contribute were it the one at that position (TF-MoDISco's input).

* ``gradient_x_input``: dS/dX * X (the observed base only).
* ``integrated_gradients``: (X - X') * the mean gradient along the straight path from a
  baseline X' (all zeros or a given reference) to X, by the trapezoid rule over ``steps``
  intervals (or left / right / midpoint Riemann sums); exact for models linear in the input,
  and ``sum(contributions) -> S(X) - S(X')`` (completeness) as ``steps`` grows.
* ``deep_lift_shap``: DeepLIFT's rescale rule averaged over dinucleotide-shuffled references
  (DeepSHAP; Lundberg & Lee 2017, as tangermeme's ``deep_lift_shap``). The model runs on
  [X; X'] and the backward pass through every nonlinearity uses the multiplier
  (f(z) - f(z')) / (z - z') instead of f'(z) (the plain gradient where |z - z'| < 1e-6); max
  pooling routes the output difference to the argmax of X and of X' as captum's DeepLift does.
  Each reference then satisfies summation-to-delta: the contributions sum to S(X) - S(X')
  (``Attributions.delta`` is what is left over). Models of Conv1D / Dense / pooling / Flatten /
  Dropout layers with elementwise activations (``demo_cnn``, ``deepsea``) get this rule; models
  with recurrent layers (``danq``, ``demo_rnn``, ``demo_cnn_rnn``, ``gru_stack``, ``bigru``,
  ``cwrnn``), whose gates multiply activations, get expected gradients instead (integrated
  gradients from each shuffled reference, averaged: Erion et al. 2021), which keeps
  completeness up to the quadrature error.

Scores S are logits by default (``logits=True``), as DeepLIFT and the field's tools use.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from chromseq.errors import ChromseqError
from chromseq.interpret.common import score_model
from chromseq.progress import progress_bar

METHODS = ("grad_x_input", "integrated_gradients", "deepshap")
RULES = ("trapezoid", "midpoint", "left", "right")
EPS = 1e-6
# elementwise activations the rescale rule applies to (softmax mixes channels: not elementwise)
_ELEMENTWISE = {"relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softplus", "softsign", "elu", "selu",
                "gelu", "silu", "swish", "exponential", "leaky_relu", "mish", "log_sigmoid",
                "torch_threshold", "keras1_hard_sigmoid"}  # the last two: chromseq.models.activations
_LINEAR_LAYERS = {"InputLayer", "Conv1D", "Dense", "Dropout", "SpatialDropout1D", "GaussianNoise",
                  "GaussianDropout", "AlphaDropout", "Flatten", "Reshape", "Permute", "ZeroPadding1D",
                  "Cropping1D", "AveragePooling1D", "GlobalAveragePooling1D", "Add", "Subtract",
                  "Concatenate", "BatchNormalization", "Identity", "Activation", "ActivityRegularization"}
_ACTIVATION_LAYERS = {"ReLU", "LeakyReLU", "ELU"}
_MAX_POOLING = {"MaxPooling1D", "GlobalMaxPooling1D"}


@dataclass
class Attributions:
    """Signed attributions of one output for N sequences (channels in the model's alphabet).

    ``contributions`` (N, L, 4): the method's attribution per base, summed over bases and positions
    it approximates S(X) - S(reference); ``hypothetical`` (N, L, 4): the contribution each of the
    four bases would make at each position (``hypothetical * x`` is the contribution of the
    observed base); ``delta`` (N,): S(X) - mean S(reference) minus the summed contributions (for
    the methods with a reference); ``rule``: how they were computed.
    """

    method: str
    contributions: np.ndarray
    hypothetical: np.ndarray
    delta: np.ndarray | None = None
    rule: str = ""


def hypothetical_contributions(multipliers: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Hypothetical contributions (..., L, 4) from multipliers m and a one-hot reference r.

    h[l, b] = sum_c (e_b - r[l])_c m[l, c] = m[l, b] - sum_c r[l, c] m[l, c]: the contribution base
    b would make at l against the same reference. This is the projection of the DeepLIFT/DeepSHAP
    genomics examples that TF-MoDISco consumes (Shrikumar et al., deeplift's
    ``get_hypothetical_contribs_func_onehot``; tangermeme's ``hypothetical_attributions``).
    """
    m = np.asarray(multipliers, np.float64)
    return m - (np.asarray(reference, np.float64) * m).sum(-1, keepdims=True)


def _gradient_fn(model, feature: int, logits: bool):
    """Compiled (batch (n, L, 4)) -> (dS/dX (n, L, 4), S (n,)) for output ``feature``."""
    import tensorflow as tf

    scorer = score_model(model, logits)

    @tf.function(reduce_retracing=True)
    def grad(batch):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            score = scorer(batch, training=False)[:, feature]
        return tape.gradient(score, batch), score

    return grad


def _check(model, x: np.ndarray, feature: int) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if x.ndim != 3 or x.shape[-1] != 4:
        raise ChromseqError(f"attributions need one-hot sequences of shape (N, L, 4), got {x.shape}")
    k = int(model.outputs[0].shape[-1])
    if not 0 <= feature < k:
        raise ChromseqError(f"feature {feature} does not exist: the model has features 0..{k - 1}")
    return x


def input_gradients(model, x: np.ndarray, feature: int, batch_size: int = 256, *,
                    logits: bool = True) -> np.ndarray:
    """dS/dX (N, L, 4) of output ``feature`` for one-hot ``x`` (N, L, 4), batched and compiled."""
    import tensorflow as tf

    x = _check(model, x, feature)
    grad = _gradient_fn(model, feature, logits)
    out = [grad(tf.constant(x[i:i + batch_size]))[0].numpy() for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros_like(x)


def gradient_x_input(model, x: np.ndarray, feature: int, batch_size: int = 256, *,
                     logits: bool = True) -> Attributions:
    """Signed gradient x input of output ``feature`` for one-hot ``x`` (N, L, 4).

    ``hypothetical`` is the gradient itself (the projection against an all-zero reference), so
    ``hypothetical * x == contributions``.
    """
    g = input_gradients(model, x, feature, batch_size, logits=logits)
    return Attributions("grad_x_input", g * np.asarray(x, np.float32), g, None, "gradient x input")


def _path_weights(steps: int, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Points alpha in [0, 1] and quadrature weights (summing to 1) for the path integral."""
    if steps < 1:
        raise ChromseqError(f"integrated gradients: steps must be >= 1 (got {steps})")
    if rule == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2
    elif rule == "midpoint":
        alphas, weights = (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    elif rule == "left":
        alphas, weights = np.arange(steps) / steps, np.full(steps, 1.0 / steps)
    elif rule == "right":
        alphas, weights = np.arange(1, steps + 1) / steps, np.full(steps, 1.0 / steps)
    else:
        raise ChromseqError(f"integrated gradients: unknown rule {rule!r}; one of {', '.join(RULES)}")
    return alphas, weights


def _path_gradients(grad, x: np.ndarray, ref: np.ndarray, alphas: np.ndarray, weights: np.ndarray,
                    batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean gradient along ref -> x for each row of x, ref (n, L, 4), and S(x), S(ref).

    Accumulated in float64, so a constant gradient comes back exactly (the weights sum to 1).
    """
    import tensorflow as tf

    n = len(x)
    a = np.asarray(alphas, np.float32)
    # every (sample, alpha) pair in one flat list, cut into batches of batch_size
    pairs = [(i, j) for i in range(n) for j in range(len(a))]
    total = np.zeros(x.shape, np.float64)
    score_x, score_ref = np.full(n, np.nan), np.full(n, np.nan)
    for start in range(0, len(pairs), batch_size):
        rows = np.array(pairs[start:start + batch_size])
        i, j = rows[:, 0], rows[:, 1]
        batch = ref[i] + a[j, None, None] * (x[i] - ref[i])
        g, s = grad(tf.constant(batch))
        np.add.at(total, i, g.numpy().astype(np.float64) * weights[j, None, None])
        s = s.numpy()
        score_ref[i[a[j] == 0.0]] = s[a[j] == 0.0]
        score_x[i[a[j] == 1.0]] = s[a[j] == 1.0]
    return total, score_x, score_ref


def integrated_gradients(model, x: np.ndarray, feature: int, batch_size: int = 256, *,
                         baseline: np.ndarray | None = None, steps: int = 50, rule: str = "trapezoid",
                         logits: bool = True, verbose: bool = False) -> Attributions:
    """Integrated gradients (Sundararajan et al. 2017) of output ``feature`` for one-hot ``x`` (N, L, 4).

    ``baseline``: None (all zeros), (L, 4) for every sequence or (N, L, 4); channels in the model's
    alphabet. ``steps`` intervals of the path, integrated by ``rule`` (``trapezoid``: alpha = 0,
    1/steps, ..., 1 with end points weighted 1/2; ``midpoint``, ``left``, ``right``: Riemann sums).
    ``contributions`` = (x - baseline) * mean path gradient; ``delta`` = S(x) - S(baseline) minus
    their sum (trapezoid rule only, which evaluates both ends).
    """
    x = _check(model, x, feature)
    ref = np.zeros_like(x) if baseline is None else np.asarray(baseline, np.float32)
    if ref.shape not in (x.shape, x.shape[1:]):
        raise ChromseqError(f"baseline must be (L, 4) or (N, L, 4) like the sequences {x.shape}, got {ref.shape}")
    ref = np.broadcast_to(ref, x.shape)
    alphas, weights = _path_weights(steps, rule)
    grad = _gradient_fn(model, feature, logits)
    m = np.zeros(x.shape, np.float64)
    sx, sr = np.full(len(x), np.nan), np.full(len(x), np.nan)
    block = max(1, batch_size // len(alphas))
    for i in progress_bar(range(0, len(x), block), desc="integrated gradients", unit="batch",
                          show=None if verbose else False):
        m[i:i + block], sx[i:i + block], sr[i:i + block] = _path_gradients(
            grad, x[i:i + block], ref[i:i + block], alphas, weights, batch_size)
    contrib = (x - ref) * m
    delta = sx - sr - contrib.sum((1, 2)) if rule == "trapezoid" else None
    return Attributions("integrated_gradients", contrib.astype(np.float32),
                        hypothetical_contributions(m, ref).astype(np.float32), delta,
                        f"integrated gradients, {steps} steps, {rule} rule, "
                        + ("all-zero baseline" if baseline is None else "given baseline"))


# --- DeepLIFT's rescale rule -----------------------------------------------------------------------

def _activation_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__).lower()


def _layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "cell"):  # a nested model
            yield from _layers(layer)
        else:
            yield layer


def deeplift_supported(model) -> tuple[bool, str]:
    """Whether DeepLIFT's rescale rule applies to every layer of ``model``, and the first layer
    it does not apply to (recurrent layers, non-elementwise activations)."""
    for layer in _layers(model):
        kind = type(layer).__name__
        activation = getattr(layer, "activation", None)
        if activation is not None and _activation_name(activation) not in _ELEMENTWISE | {"linear"}:
            return False, f"{layer.name} ({kind}, activation {_activation_name(activation)})"
        if kind not in _LINEAR_LAYERS | _ACTIVATION_LAYERS | _MAX_POOLING:
            return False, f"{layer.name} ({kind})"
    return True, ""


def _rescale(f: Callable):
    """f with DeepLIFT's rescale multipliers as its gradient, for a batch stacked as [x; ref]."""
    import tensorflow as tf

    @tf.custom_gradient
    def op(z):
        y = f(z)

        def grad(dy):
            n = tf.shape(z)[0] // 2
            with tf.GradientTape() as tape:
                tape.watch(z)
                local = f(z)
            plain = tape.gradient(local, z, output_gradients=dy)
            dz = z[:n] - z[n:]
            big = tf.abs(dz) > EPS
            ratio = (y[:n] - y[n:]) / tf.where(big, dz, tf.ones_like(dz))
            mx = tf.where(big, dy[:n] * ratio, plain[:n])
            return tf.concat([mx, tf.zeros_like(mx)], 0)  # the references' half is never read

        return y, grad

    return op


def _rescale_max_pool(pool: Callable):
    """Max pooling with DeepLIFT multipliers for [x; ref] (captum's DeepLift maxpool rule).

    The output difference y - y' is split at m = max(y, y') into (m - y') routed to the argmax of
    x and (y - m) routed to the argmax of the reference, then divided by each input's z - z'.
    """
    import tensorflow as tf

    @tf.custom_gradient
    def op(z):
        y = pool(z)

        def grad(dy):
            n = tf.shape(z)[0] // 2
            zx, zr = z[:n], z[n:]
            yx, yr = y[:n], y[n:]
            g = dy[:n]
            top = tf.maximum(yx, yr)

            def unpool(inputs, upstream):
                with tf.GradientTape() as tape:
                    tape.watch(inputs)
                    out = pool(inputs)
                return tape.gradient(out, inputs, output_gradients=upstream)

            routed = unpool(zx, g * (top - yr)) + unpool(zr, g * (yx - top))
            dz = zx - zr
            big = tf.abs(dz) > EPS
            mx = tf.where(big, routed / tf.where(big, dz, tf.ones_like(dz)), unpool(zx, g))
            return tf.concat([mx, tf.zeros_like(mx)], 0)

        return y, grad

    return op


@contextmanager
def rescale_rule(model):
    """Within this block, ``model``'s nonlinear layers back-propagate DeepLIFT multipliers for a
    batch stacked as [x; references] (halves of equal size). The layers are restored on exit.

    Only meaningful for models where ``deeplift_supported(model)`` holds.
    """
    patched: list[tuple[object, str, object, bool]] = []
    try:
        for layer in _layers(model):
            kind = type(layer).__name__
            activation = getattr(layer, "activation", None)
            if activation is not None and _activation_name(activation) in _ELEMENTWISE:
                patched.append((layer, "activation", activation, "activation" in vars(layer)))
                layer.activation = _rescale(activation)
            elif kind in _ACTIVATION_LAYERS or kind in _MAX_POOLING:
                call = layer.call
                patched.append((layer, "call", call, "call" in vars(layer)))
                layer.call = (_rescale_max_pool if kind in _MAX_POOLING else _rescale)(call)
        yield model
    finally:
        for layer, name, original, own in reversed(patched):
            if own or name == "activation":
                setattr(layer, name, original)
            else:
                delattr(layer, name)


def _deeplift_fn(model, feature: int, logits: bool):
    """(x (n, L, 4), ref (n, L, 4), batch_size) -> (multipliers (n, L, 4), S(x), S(ref)) by a
    compiled function run in batches; call it inside ``rescale_rule``."""
    import tensorflow as tf

    scorer = score_model(model, logits)

    @tf.function(reduce_retracing=True)
    def fn(x, ref):
        n = tf.shape(x)[0]
        both = tf.concat([x, ref], 0)
        with tf.GradientTape() as tape:
            tape.watch(both)
            score = scorer(both, training=False)[:, feature]
            target = tf.reduce_sum(score[:n])
        return tape.gradient(target, both)[:n], score[:n], score[n:]

    def run(x, ref, batch_size):
        half = max(1, batch_size // 2)  # the model sees [x; ref]: twice the rows
        out = [fn(tf.constant(x[i:i + half]), tf.constant(ref[i:i + half])) for i in range(0, len(x), half)]
        return tuple(np.concatenate([o[k].numpy() for o in out]).astype(np.float64) for k in range(3))

    return run


def shuffled_references(x: np.ndarray, alphabet: str, n_shuffles: int,
                        seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n_shuffles`` dinucleotide shuffles of each one-hot sequence (N, L, 4): (N, S, L, 4) float32
    in ``alphabet`` (N positions are shuffled along as N rows)."""
    from chromseq.data.encoding import decode, one_hot
    from chromseq.data.shuffle import dinucleotide_shuffle

    rng = np.random.default_rng(seed)
    seqs = decode(np.asarray(x), alphabet)
    seqs = [seqs] if isinstance(seqs, str) else seqs
    out = np.zeros((len(seqs), n_shuffles) + np.shape(x)[1:], np.float32)
    for i, s in enumerate(seqs):
        out[i] = one_hot([dinucleotide_shuffle(s, rng) for _ in range(n_shuffles)], alphabet, dtype=np.float32)
    return out


def deep_lift_shap(model, x: np.ndarray, feature: int, batch_size: int = 256, *, alphabet: str,
                   n_shuffles: int = 20, references: np.ndarray | None = None, seed: int = 0,
                   ig_steps: int = 16, logits: bool = True, verbose: bool = False) -> Attributions:
    """DeepSHAP attributions of output ``feature`` for one-hot ``x`` (N, L, 4) in ``alphabet``.

    References: ``references`` (N, S, L, 4) or ``n_shuffles`` dinucleotide shuffles of each
    sequence (seeded; drawn block by block, so memory stays bounded). Models DeepLIFT's rescale
    rule covers get it (summation-to-delta per reference; ``delta`` holds the residual, float32
    rounding); recurrent models get expected gradients, integrated gradients with ``ig_steps``
    trapezoid intervals from each reference. Contributions and hypothetical contributions are
    averaged over the references. ``verbose``: a progress bar (on a terminal).
    """
    x = _check(model, x, feature)
    if references is not None:
        references = np.asarray(references, np.float32)
        if references.ndim != 4 or references.shape[0] != len(x) or references.shape[2:] != x.shape[1:]:
            raise ChromseqError(f"references must be (N, S, L, 4) = ({len(x)}, S, {x.shape[1]}, 4), "
                                f"got {references.shape}")
    s = n_shuffles if references is None else references.shape[1]
    if s < 1:
        raise ChromseqError(f"deepshap needs at least one reference (got {s})")
    ok, why = deeplift_supported(model)
    if ok:
        rule = f"DeepLIFT rescale rule, {s} dinucleotide-shuffled references"
        context = rescale_rule(model)
    else:
        rule = (f"expected gradients ({why} is outside DeepLIFT's rules): {ig_steps}-step trapezoid "
                f"integrated gradients from {s} dinucleotide-shuffled references")
        context = nullcontext()
    contrib = np.zeros(x.shape, np.float32)
    hyp = np.zeros(x.shape, np.float32)
    delta = np.zeros(len(x))
    rng = np.random.default_rng(seed)
    block = max(1, batch_size // s)
    with context:
        run = _deeplift_fn(model, feature, logits) if ok else _expected_gradients_fn(model, feature, logits, ig_steps)
        for i in progress_bar(range(0, len(x), block), desc="deepshap", unit="batch", show=None if verbose else False):
            xb = x[i:i + block]
            refs = (references[i:i + block] if references is not None
                    else shuffled_references(xb, alphabet, s, rng))
            flat_x = np.repeat(xb, s, axis=0)
            flat_ref = refs.reshape((-1,) + x.shape[1:])
            m, sx, sr = run(flat_x, flat_ref, batch_size)
            c = ((flat_x - flat_ref) * m).reshape((len(xb), s) + x.shape[1:])
            contrib[i:i + block] = c.mean(1)
            hyp[i:i + block] = hypothetical_contributions(m, flat_ref).reshape(c.shape).mean(1)
            delta[i:i + block] = (sx - sr).reshape(len(xb), s).mean(1) - c.mean(1).sum((1, 2))
    return Attributions("deepshap", contrib, hyp, delta, rule)


def _expected_gradients_fn(model, feature: int, logits: bool, steps: int):
    alphas, weights = _path_weights(steps, "trapezoid")
    grad = _gradient_fn(model, feature, logits)
    return lambda x, ref, batch_size: _path_gradients(grad, x, ref, alphas, weights, batch_size)


def attributions(model, x: np.ndarray, feature: int, method: str = "deepshap", batch_size: int = 256, *,
                 alphabet: str, **options) -> Attributions:
    """Signed attributions by ``method`` (one of ``METHODS``); ``options`` go to that method
    (``steps``, ``rule``, ``baseline`` for integrated gradients; ``n_shuffles``, ``seed``,
    ``ig_steps`` for deepshap)."""
    if method == "grad_x_input":
        return gradient_x_input(model, x, feature, batch_size, **options)
    if method == "integrated_gradients":
        return integrated_gradients(model, x, feature, batch_size, **options)
    if method == "deepshap":
        return deep_lift_shap(model, x, feature, batch_size, alphabet=alphabet, **options)
    raise ChromseqError(f"unknown attribution method {method!r}; one of {', '.join(METHODS)}")
