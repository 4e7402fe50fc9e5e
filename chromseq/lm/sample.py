"""Generate sequence from a next-nucleotide model with a compiled step that carries the RNN state.

Calling the model once per base on the last ``seq_len`` bases reruns the whole window for every
new base, eagerly (200 bases took about 3 minutes). Here the model's own layers are called one
base at a time inside a ``tf.while_loop``: the embedding, each recurrent layer's cell with its
state carried from the previous base, the softmax. A chunk of bases is one compiled call; the
progress bar advances between chunks.

The state runs over the whole generated sequence (as a stateful RNN would), where the windowed
sampler (``sample_windowed``) forgets everything older than ``seq_len`` bases; the two agree
base for base while the sequence is shorter than the window.
"""

from __future__ import annotations

import weakref

import numpy as np

from chromseq.errors import ChromseqError

_SAMPLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its traced sampler

ALPHABET = "ACGT"  # the LM's base indices (4 = N)


def _step_layers(model):
    """(embedding, [recurrent layers], output dense) of a ``build_lm`` model."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    embedding, rnns, head = layers[0], layers[1:-1], layers[-1]
    if not isinstance(embedding, keras.layers.Embedding) or not isinstance(head, keras.layers.Dense) \
            or not all(isinstance(r, keras.layers.RNN) for r in rnns):
        raise ChromseqError(f"model {model.name}: not a chromseq LM (embedding, recurrent layers, dense softmax)")
    return embedding, rnns, head


def make_sampler(model):
    """A compiled ``(states, token, forced, n, temperature, greedy, seed, offset) -> (states, tokens)``.

    ``forced`` (n,) int32 holds the next input token of each step, or -1 where the model's
    draw is used (priming feeds its bases this way); ``tokens`` (n,) are the bases after each
    step. Draws use ``tf.random.stateless_categorical`` seeded by ``(seed, offset + step)``:
    the same seed gives the same sequence however it is cut into chunks.
    """
    import tensorflow as tf

    if model in _SAMPLERS:  # tracing costs seconds: once per model
        return _SAMPLERS[model]
    embedding, rnns, head = _step_layers(model)
    cells = [r.cell for r in rnns]

    def initial_states():
        return [[tf.convert_to_tensor(s) for s in tf.nest.flatten(c.get_initial_state(batch_size=1))]
                for c in cells]

    @tf.function(reduce_retracing=True)
    def run(states, token, forced, n, temperature, greedy, seed, offset):
        out = tf.TensorArray(tf.int32, size=n)

        def body(i, token, states, out):
            h = embedding(tf.reshape(token, (1,)))
            new_states = []
            for cell, state in zip(cells, states):
                h, state = cell(h, state, training=False)
                new_states.append(list(tf.nest.flatten(state)))
            p = tf.cast(head(h), tf.float32)  # (1, 4) next-base probabilities
            logits = tf.math.log(tf.maximum(p, 1e-12)) / temperature
            drawn = tf.random.stateless_categorical(logits, 1, tf.stack([seed, offset + i]), dtype=tf.int32)[0, 0]
            drawn = tf.where(greedy, tf.argmax(p[0], output_type=tf.int32), drawn)
            nxt = tf.where(forced[i] >= 0, forced[i], drawn)
            return i + 1, nxt, new_states, out.write(i, nxt)

        _, _, states, out = tf.while_loop(lambda i, *_: i < n, body, (tf.constant(0), token, states, out))
        return states, out.stack()

    _SAMPLERS[model] = initial_states, run
    return initial_states, run


def sample_compiled(model, length: int, *, temperature: float = 1.0, seed: int = 0, prime: str = "",
                    greedy: bool = False, chunk: int = 1000, progress: bool | None = None) -> str:
    """``length`` bases (ACGT) drawn from ``model`` (a ``build_lm`` model) after ``prime``.

    Each base is drawn from the next-base distribution ** (1/temperature) (``greedy``: the most
    likely base). Without ``prime`` the first input base is drawn uniformly with ``seed``.
    ``progress``: a tqdm bar on stderr (None: only when stderr is a terminal).
    """
    import tensorflow as tf

    from chromseq.data.encoding import encode_indices
    from chromseq.progress import progress_bar

    if temperature <= 0:
        raise ChromseqError("temperature must be positive")
    primed = [int(i) for i in encode_indices(prime, ALPHABET)] if prime else \
        [int(np.random.default_rng(seed).integers(4))]
    initial_states, run = make_sampler(model)
    states, token = initial_states(), tf.constant(primed[0], tf.int32)
    temperature_t, greedy_t = tf.constant(temperature, tf.float32), tf.constant(bool(greedy))
    seed_t = tf.constant(seed, tf.int32)
    # the prime's remaining bases are fed as forced inputs; generation starts at its last base
    todo = np.concatenate([np.array(primed[1:], np.int32), np.full(length, -1, np.int32)])
    generated, done = [], 0
    with progress_bar(total=length, unit="bp", desc="sampling", show=progress) as bar:
        while done < len(todo):
            part = todo[done : done + chunk]
            states, tokens = run(states, token, tf.constant(part), tf.constant(len(part), tf.int32), temperature_t,
                                 greedy_t, seed_t, tf.constant(done, tf.int32))
            tokens = tokens.numpy()
            token = tf.constant(tokens[-1], tf.int32)
            new = tokens[part < 0]
            generated.append(new)
            bar.update(len(new))
            done += len(part)
    seq = np.concatenate(generated) if generated else np.zeros(0, np.int32)
    return "".join(ALPHABET[i] for i in seq)


def sample_windowed(model, length: int, context: int, *, temperature: float = 1.0, seed: int = 0,
                    prime: str = "", greedy: bool = False) -> str:
    """The reference sampler: the whole model on the last ``context`` bases, once per base (slow)."""
    from chromseq.data.encoding import encode_indices

    if temperature <= 0:
        raise ChromseqError("temperature must be positive")
    rng = np.random.default_rng(seed)
    seq = list(encode_indices(prime, ALPHABET)) if prime else [int(rng.integers(4))]
    start = len(seq)
    for _ in range(length):
        window = np.array(seq[-context:], np.int32)[None]
        p = np.asarray(model(window, training=False))[0, -1].astype(np.float64)
        if greedy:
            seq.append(int(p.argmax()))
            continue
        p = np.exp(np.log(np.clip(p, 1e-12, 1)) / temperature)
        seq.append(int(rng.choice(4, p=p / p.sum())))
    return "".join(ALPHABET[i] if i < 4 else "N" for i in seq[start:])

