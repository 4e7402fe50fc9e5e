"""Stream a dataset from disk into ``tf.data`` by contiguous blocks, with bounded memory.

train.mat stores samples on its last axis, so one sample is a strided gather over the whole
file and random access is slow (h5py fancy indexing ~300 samples/s). We read contiguous
blocks (``x[:, :, i:i+B]``, 20-29k samples/s), visit blocks in a shuffled order, pool a few
blocks and permute samples inside the pool. Memory is ``block_size x shuffle_buffer_blocks``
samples whatever the file size. The order depends only on ``seed`` and ``epoch``, so an
interrupted epoch can be replayed exactly on ``--resume``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from chromseq.data.encoding import complement_permutation
from chromseq.data.mat import SeqDataset


def iter_batches(
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
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x uint8 (B, L, 4), y uint8 (B, K)) batches of one epoch, in NumPy."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    rng = np.random.default_rng([seed, epoch])
    n = ds.n_samples
    starts = np.arange(0, n, block_size)
    if shuffle:
        rng.shuffle(starts)
    perm = complement_permutation(ds.alphabet) if rc_augment else None
    pending_x: list[np.ndarray] = []
    pending_y: list[np.ndarray] = []
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
        if pending_x:  # carry the remainder of the previous pool into this one
            x, y = np.concatenate([*pending_x, x]), np.concatenate([*pending_y, y])
            pending_x, pending_y = [], []
        full = len(x) // batch_size * batch_size
        for b in range(0, full, batch_size):
            yield x[b : b + batch_size], y[b : b + batch_size]
        if full < len(x):
            pending_x, pending_y = [x[full:]], [y[full:]]
    if pending_x and not drop_remainder:
        yield pending_x[0], pending_y[0]


def make_tf_dataset(
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
    skip_batches: int = 0,
):
    """A ``tf.data.Dataset`` of (float32 x (B, L, 4), float32 y (B, K)) for one epoch, prefetched.

    Batches leave the generator as uint8 (4x less to copy) and are cast in the graph.
    ``skip_batches`` drops the first batches of the epoch (to resume mid-epoch).
    """
    import tensorflow as tf

    length, k = ds.seq_len, ds.n_features

    def gen():
        it = iter_batches(ds, batch_size=batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
                          block_size=block_size, shuffle_buffer_blocks=shuffle_buffer_blocks,
                          rc_augment=rc_augment, drop_remainder=drop_remainder)
        for i, batch in enumerate(it):
            if i >= skip_batches:
                yield batch

    signature = (tf.TensorSpec((None, length, 4), tf.uint8), tf.TensorSpec((None, k), tf.uint8))
    data = tf.data.Dataset.from_generator(gen, output_signature=signature)
    data = data.map(lambda x, y: (tf.cast(x, tf.float32), tf.cast(y, tf.float32)),
                    num_parallel_calls=tf.data.AUTOTUNE)
    n_batches = ds.n_samples // batch_size if drop_remainder else -(-ds.n_samples // batch_size)
    data = data.apply(tf.data.experimental.assert_cardinality(max(0, n_batches - skip_batches)))
    return data.prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(ds: SeqDataset, batch_size: int, drop_remainder: bool = False) -> int:
    """Number of batches ``make_tf_dataset`` yields per epoch."""
    return ds.n_samples // batch_size if drop_remainder else -(-ds.n_samples // batch_size)
