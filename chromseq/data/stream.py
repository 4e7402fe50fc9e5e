"""Stream a dataset from disk into ``tf.data`` by contiguous blocks, with bounded memory.

train.mat stores samples on its last axis, so one sample is a strided gather over the whole
file and random access is slow (h5py fancy indexing ~300 samples/s). We read contiguous
blocks (``x[:, :, i:i+B]``, 20-29k samples/s), visit blocks in a shuffled order, pool a few
blocks and permute samples inside the pool. Memory is ``block_size x shuffle_buffer_blocks``
samples whatever the file size. The order depends only on ``seed`` and ``epoch``, so an
interrupted epoch can be replayed exactly on ``--resume``.

Several workers share an epoch by blocks: all of them draw the same block order and worker i
of N takes blocks i, i+N, ... of it before anything is read, so N workers read the file once
between them (``shard``; ``epoch_stream`` wires it to ``tf.distribute``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from chromseq.allocator import release_free_memory
from chromseq.data.encoding import complement_permutation
from chromseq.data.mat import SeqDataset
from chromseq.errors import ChromseqError, raised_in_generator


def iter_pools(
    ds: SeqDataset,
    *,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    block_size: int = 4096,
    shuffle_buffer_blocks: int = 4,
    rc_augment: bool = False,
    drop_remainder: bool = False,
    shard: tuple[int, int] = (0, 1),
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield one epoch as shuffled pools of whole batches (x uint8 (n*B, L, 4), y uint8 (n*B, K)).

    Cutting each pool into consecutive ``batch_size`` slices gives the epoch's batches; only the
    last pool may end with a partial batch (dropped with ``drop_remainder``). ``shard=(i, n)``
    keeps blocks i, i+n, ... of the epoch's block order (the same order for every i): the n
    shards are disjoint and together hold the epoch.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard must be (index, count) with 0 <= index < count, got {shard}")
    rng = np.random.default_rng([seed, epoch])
    starts = np.arange(0, ds.n_samples, block_size)
    if shuffle:
        rng.shuffle(starts)
    starts = starts[index::count]
    perm = complement_permutation(ds.alphabet) if rc_augment else None
    carry: tuple[np.ndarray, np.ndarray] | None = None
    group = max(1, shuffle_buffer_blocks) if shuffle else 1
    for g in range(0, len(starts), group):
        xs, ys = zip(*(ds.read(int(s), int(s) + block_size) for s in starts[g : g + group]))
        x = np.concatenate(xs)
        y = np.concatenate(ys) if ys[0] is not None else np.zeros((len(x), 0), np.uint8)
        if shuffle:
            order = rng.permutation(len(x))
            x, y = x[order], y[order]
        if rc_augment:
            flip = rng.random(len(x)) < 0.5
            x[flip] = x[flip][:, ::-1, :][:, :, perm]
        if carry is not None:  # the remainder of the previous pool opens this one
            x, y = np.concatenate([carry[0], x]), np.concatenate([carry[1], y])
        full = len(x) // batch_size * batch_size
        carry = (x[full:], y[full:]) if full < len(x) else None
        if full:
            yield x[:full], y[:full]
        del x, y, xs, ys
        release_free_memory()  # pools of varying size fragment a heap that never unmaps
    if carry is not None and not drop_remainder:
        yield carry


def iter_batches(ds: SeqDataset, *, batch_size: int, **kwargs) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x uint8 (B, L, 4), y uint8 (B, K)) batches of one epoch, in NumPy (``iter_pools`` arguments)."""
    for x, y in iter_pools(ds, batch_size=batch_size, **kwargs):
        for b in range(0, len(x), batch_size):
            yield x[b : b + batch_size], y[b : b + batch_size]


def _endless_share(ds: SeqDataset, epoch: int, *, batch_size: int, shard: tuple[int, int], **kwargs):
    """A worker's share of ``epoch`` in pools of whole batches, replayed without end.

    Shares differ by up to a block while every worker must run the same number of steps: a
    worker whose share runs out starts it over (the caller takes ``steps`` batches).
    """
    n_blocks = -(-ds.n_samples // kwargs.get("block_size", 4096))
    if n_blocks < shard[1]:
        raise ChromseqError(f"{ds.path}: {n_blocks} block(s) of {kwargs.get('block_size', 4096)} samples cannot be "
                            f"shared by {shard[1]} workers; lower data.block_size")
    carry = None
    while True:
        for x, y in iter_pools(ds, batch_size=batch_size, epoch=epoch, shard=shard, **kwargs):
            if carry is not None:
                x, y = np.concatenate([carry[0], x]), np.concatenate([carry[1], y])
            full = len(x) // batch_size * batch_size
            carry = (x[full:], y[full:]) if full < len(x) else None
            if full:
                yield x[:full], y[:full]


def tf_batches(ds: SeqDataset, epoch, *, batch_size: int, shard: tuple[int, int] = (0, 1), **kwargs):
    """The batches of ``epoch`` (an int or a scalar tensor) as a ``tf.data.Dataset`` of uint8 pairs.

    With ``shard=(i, n)``, n > 1: worker i's blocks only, in whole batches, without end (take
    the epoch's steps).

    Python hands TensorFlow whole pools, which ``tf.data`` cuts into batches: one generator call
    per pool of thousands of samples instead of one per batch (15.6-17.7k vs 10.9-14.1k
    samples/s through tf.data at batch 64 on 2 cores).
    Every block is checked as it is read (0/1 labels, one-hot rows); TensorFlow wraps the
    ChromseqError of a bad block, so consume the dataset inside ``chromseq.errors.reraise_input_errors``.
    """
    import tensorflow as tf

    def pools(e):
        try:
            if shard[1] > 1:
                yield from _endless_share(ds, int(e), batch_size=batch_size, shard=shard, **kwargs)
            else:
                yield from iter_pools(ds, batch_size=batch_size, epoch=int(e), **kwargs)
        except ChromseqError as exc:  # TensorFlow re-raises it as UnknownError: let the consumer unwrap it
            raised_in_generator(exc)
            raise

    signature = (tf.TensorSpec((None, ds.seq_len, 4), tf.uint8), tf.TensorSpec((None, ds.n_features), tf.uint8))
    data = tf.data.Dataset.from_generator(pools, args=(epoch,), output_signature=signature)
    return data.flat_map(lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size))


def as_float(data):
    """Cast uint8 batches to float32 in the graph (4x less to copy out of Python) and prefetch."""
    import tensorflow as tf

    return data.map(lambda x, y: (tf.cast(x, tf.float32), tf.cast(y, tf.float32)),
                    num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def epoch_stream(ds: SeqDataset, *, batch_size: int, steps: int, **kwargs):
    """``(epoch, context=None) -> that epoch's float32 batches`` (``steps`` of them) for ``chromseq.fit``.

    ``batch_size`` is the global batch. Given a ``tf.distribute.InputContext`` (multi-worker
    training), the function returns the share of input pipeline i of N: blocks i, i+N, ... in
    per-replica batches, auto-sharding off, so no block is read by two workers.
    ``kwargs`` are ``iter_pools``'s (seed, block_size, shuffle_buffer_blocks, rc_augment).
    """
    import tensorflow as tf

    def epoch_batches(epoch, context=None):
        if context is None:
            return as_float(tf_batches(ds, epoch, batch_size=batch_size, **kwargs).take(steps))
        share = (context.input_pipeline_id, context.num_input_pipelines)
        local_replicas = max(1, context.num_replicas_in_sync // context.num_input_pipelines)  # one batch each per step
        data = tf_batches(ds, epoch, batch_size=context.get_per_replica_batch_size(batch_size), shard=share,
                          **kwargs).take(steps * local_replicas)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        return as_float(data.with_options(options))

    return epoch_batches


def make_tf_dataset(
    ds: SeqDataset,
    *,
    batch_size: int,
    epoch: int = 0,
    drop_remainder: bool = False,
    **kwargs,
):
    """A ``tf.data.Dataset`` of (float32 x (B, L, 4), float32 y (B, K)) for one epoch, prefetched.

    ``kwargs`` are ``iter_pools``'s.
    """
    import tensorflow as tf

    data = tf_batches(ds, epoch, batch_size=batch_size, drop_remainder=drop_remainder, **kwargs)
    data = data.apply(tf.data.experimental.assert_cardinality(steps_per_epoch(ds, batch_size, drop_remainder)))
    return as_float(data)


def steps_per_epoch(ds: SeqDataset, batch_size: int, drop_remainder: bool = False) -> int:
    """Number of batches ``make_tf_dataset`` yields per epoch."""
    return ds.n_samples // batch_size if drop_remainder else -(-ds.n_samples // batch_size)
