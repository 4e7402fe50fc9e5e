"""A plain distributed training loop for ``multi_worker``.

Keras 3's ``fit`` does not run under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585:
per-replica values reach a tensor conversion), so multi-worker training runs this loop:
``strategy.run`` per step, the compiled loss averaged over the global batch, the same callbacks.
"""

from __future__ import annotations

import keras


def fit_distributed(model, strategy, data, *, epochs: int, initial_epoch: int, steps_per_epoch: int,
                    callbacks: list, verbose: int = 1) -> None:
    """Train ``model`` (compiled inside ``strategy.scope()``) on a global-batch ``data`` stream."""
    import tensorflow as tf

    cbs = keras.callbacks.CallbackList(callbacks, model=model, add_history=False, add_progbar=verbose > 0,
                                       epochs=epochs, steps=steps_per_epoch, verbose=verbose)
    replicas = strategy.num_replicas_in_sync
    loss_fn, optimizer = model.loss, model.optimizer
    iterator = iter(strategy.experimental_distribute_dataset(data))

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = loss_fn(y, pred)
            if model.losses:
                loss += tf.add_n(model.losses)
            scaled = loss / replicas  # summed over replicas below = the global mean
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return scaled

    @tf.function
    def train_step(it):
        x, y = next(it)
        return strategy.reduce("SUM", strategy.run(replica_step, args=(x, y)), axis=None)

    model.stop_training = False
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        total = 0.0
        for step in range(steps_per_epoch):
            cbs.on_train_batch_begin(step)
            total += float(train_step(iterator))
            cbs.on_train_batch_end(step, {"loss": total / (step + 1)})
        logs = {"loss": total / max(1, steps_per_epoch)}
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end()
