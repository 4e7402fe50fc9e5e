"""Class optimization (DeMo / Simonyan et al.): the input that maximizes a feature's score."""

from __future__ import annotations

import numpy as np

from chromseq.interpret.common import score_model


def class_optimization(model, feature: int, seq_len: int, *, lam: float = 0.009, lr: float = 0.05,
                       steps: int = 1000, seed: int = 0, logits: bool = True,
                       progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Maximize S_c(X) - lam * ||X||^2 from X0 ~ U(0, 1) with RMSprop.

    Returns the optimized input (L, 4) and the PWM (L, 4) made from it: negative values
    clipped to 0, each position normalized to sum 1 (uniform where nothing is positive).
    Both in the model's alphabet order. ``progress``: a bar on stderr over the steps (None: only
    on a terminal).
    """
    import tensorflow as tf

    from chromseq.progress import progress_bar

    scorer = score_model(model, logits)
    rng = np.random.default_rng(seed)
    x = tf.Variable(rng.uniform(size=(1, seq_len, 4)).astype(np.float32))
    import keras

    opt = keras.optimizers.RMSprop(lr)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            objective = scorer(x, training=False)[0, feature] - lam * tf.reduce_sum(tf.square(x))
            loss = -objective
        opt.apply_gradients([(tape.gradient(loss, x), x)])
        return objective

    for _ in progress_bar(range(steps), desc="class optimization", unit="step", show=progress):
        step()
    x_opt = x.numpy()[0]
    pos = np.clip(x_opt, 0, None)
    sums = pos.sum(1, keepdims=True)
    pwm = np.where(sums > 0, pos / np.where(sums > 0, sums, 1), 0.25)
    return x_opt, pwm
