import numpy as np

from chromseq.data import iter_batches, make_tf_dataset, open_dataset, write_mat_v73
from chromseq.data.encoding import reverse_complement


def _file(tmp_path, n=1000, length=12, k=3):
    rng = np.random.default_rng(1)
    x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (n, length))]
    y = np.zeros((n, k), np.uint8)
    y[:, 0] = np.arange(n) % 2  # labels tied to sample identity
    y[:, 1] = (np.arange(n) // 2) % 2
    write_mat_v73(tmp_path / "train.mat", x, y)
    return x, y


def test_stream_visits_every_sample_once_shuffled_and_reproducibly(tmp_path):
    x, y = _file(tmp_path)
    ds = open_dataset(tmp_path / "train.mat")
    kw = dict(batch_size=64, seed=3, block_size=100, shuffle_buffer_blocks=3)
    batches = list(iter_batches(ds, epoch=0, **kw))
    xs = np.concatenate([b[0] for b in batches])
    assert len(xs) == 1000 and all(len(b[0]) == 64 for b in batches[:-1])
    keys = {r.tobytes() for r in x}
    assert {r.tobytes() for r in xs} == keys  # every sample exactly once
    assert not np.array_equal(xs, x)  # shuffled
    again = np.concatenate([b[0] for b in iter_batches(ds, epoch=0, **kw)])
    other = np.concatenate([b[0] for b in iter_batches(ds, epoch=1, **kw)])
    np.testing.assert_array_equal(xs, again)  # same seed and epoch: same order (resume)
    assert not np.array_equal(xs, other)
    # labels still belong to their sequences after shuffling
    index = {r.tobytes(): i for i, r in enumerate(x)}
    ys = np.concatenate([b[1] for b in batches])
    ids = np.array([index[r.tobytes()] for r in xs])
    np.testing.assert_array_equal(ys, y[ids])


def test_rc_augmentation_and_tf_dataset(tmp_path):
    x, _ = _file(tmp_path, n=200)
    ds = open_dataset(tmp_path / "train.mat")
    aug = np.concatenate([b[0] for b in iter_batches(ds, batch_size=50, shuffle=False, rc_augment=True)])
    flipped = [not np.array_equal(a, b) for a, b in zip(aug, x)]
    assert 50 < sum(flipped) < 150
    for a, b, f in zip(aug, x, flipped):
        np.testing.assert_array_equal(a, reverse_complement(b, "AGCT") if f else b)
    data = make_tf_dataset(ds, batch_size=64, seed=0, block_size=64)
    got = [(bx.numpy(), by.numpy()) for bx, by in data]
    assert got[0][0].dtype == np.float32 and got[0][0].shape == (64, 12, 4) and got[0][1].shape == (64, 3)
    assert sum(len(g[0]) for g in got) == 200 and data.cardinality().numpy() == 4
    again = list(make_tf_dataset(ds, batch_size=64, seed=0, block_size=64))  # seeded: the same order
    np.testing.assert_array_equal(again[2][0].numpy(), got[2][0])


def test_tf_dataset_gives_exactly_the_numpy_batches(tmp_path):
    """Pools cut into batches by tf.data: same batches, remainders carried across pools, last one partial."""
    _file(tmp_path)
    ds = open_dataset(tmp_path / "train.mat")
    kw = dict(batch_size=48, seed=5, epoch=2, block_size=100, shuffle_buffer_blocks=3, rc_augment=True)
    expected = list(iter_batches(ds, **kw))
    got = [(bx.numpy(), by.numpy()) for bx, by in make_tf_dataset(ds, **kw)]
    assert [len(b[0]) for b in got] == [48] * 20 + [40]
    assert len(got) == len(expected)
    for (gx, gy), (ex, ey) in zip(got, expected):
        np.testing.assert_array_equal(gx, ex)
        np.testing.assert_array_equal(gy, ey)
    dropped = list(make_tf_dataset(ds, drop_remainder=True, **kw))
    assert len(dropped) == 20


def test_block_shards_are_disjoint_cover_the_epoch_and_share_one_block_order(tmp_path):
    x, _ = _file(tmp_path)
    ds = open_dataset(tmp_path / "train.mat")
    kw = dict(batch_size=10, seed=3, epoch=1, block_size=100, shuffle_buffer_blocks=2)
    index = {r.tobytes(): i for i, r in enumerate(x)}
    shares = [np.concatenate([b[0] for b in iter_batches(ds, shard=(i, 3), **kw)]) for i in range(3)]
    ids = [{index[r.tobytes()] for r in s} for s in shares]
    assert [len(s) for s in shares] == [400, 300, 300]  # 10 blocks: 4 + 3 + 3
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert set().union(*ids) == set(range(1000))
    blocks = [[i // 100 for i in sorted(s)][::100] for s in ids]  # whole blocks: one id in 100 names each
    # the epoch's block order (the same for every worker), dealt out: worker i holds blocks i, i+3, ... of it
    starts = np.arange(0, 1000, 100)
    np.random.default_rng([3, 1]).shuffle(starts)
    for i in range(3):
        assert sorted(blocks[i]) == sorted(starts[i::3] // 100)


def test_endless_share_gives_whole_batches_for_the_worker_steps(tmp_path):
    import tensorflow as tf

    from chromseq.data.stream import epoch_stream

    _file(tmp_path, n=250)  # 3 blocks of 100 (the last of 50) for 2 workers: shares of 150 and 100
    ds = open_dataset(tmp_path / "train.mat")
    stream = epoch_stream(ds, batch_size=40, steps=7, seed=0, block_size=100)
    sizes = []
    for pipeline in range(2):
        ctx = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2)
        data = stream(0, context=ctx)
        assert data.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF
        sizes.append([len(bx) for bx, _ in data])
    assert sizes == [[20] * 7, [20] * 7]  # per-replica batches; the 100-sample share starts over to keep step
