"""A training split larger than one chunk is generated chunk by chunk (memory flat in its size)."""

import numpy as np

from chromseq.data import open_dataset
from chromseq.data.encoding import reverse_complement
from chromseq.data.synth import generate, write_bundle


def test_large_train_split_is_written_in_chunks(tmp_path, monkeypatch):
    from chromseq.data import synth

    monkeypatch.setattr(synth, "TRAIN_CHUNK", 100)
    write_bundle(tmp_path, n_train=250, n_valid=10, n_test=10, length=120, n_features=12, seed=2)
    with open_dataset(tmp_path / "train.mat") as ds:
        x, y = ds.load()
    assert x.shape == (250, 120, 4) and y.shape == (250, 12)
    for c, (lo, m) in enumerate(((0, 100), (100, 100), (200, 50))):  # each chunk: its own generate call
        chunk = generate(m, 120, 12, seed=[2000, c])
        np.testing.assert_array_equal(x[lo : lo + m], chunk.x)
        np.testing.assert_array_equal(y[lo : lo + m], chunk.y)
        half = (m + 1) // 2
        np.testing.assert_array_equal(x[lo + half : lo + m], reverse_complement(x[lo : lo + m - half], "AGCT"))
    planted = np.load(tmp_path / "planted_train.npz")
    last = generate(50, 120, 12, seed=[2000, 2]).planted
    assert (planted["sample"] >= 200).sum() == len(last["sample"])
    np.testing.assert_array_equal(planted["sample"][-len(last["sample"]):], last["sample"] + 200)
