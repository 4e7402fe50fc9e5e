"""Memory-mapped MATLAB v5 reading agrees with scipy.io.loadmat and fails clearly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from chromseq.data.mat import open_dataset, write_mat_v5
from chromseq.data.matv5 import MappedArray, memmap_mat_v5
from chromseq.errors import ChromseqError


def _onehot(n: int, length: int, seed: int = 0) -> np.ndarray:
    idx = np.random.default_rng(seed).integers(0, 4, (n, length))
    return np.eye(4, dtype=np.uint8)[idx]


@pytest.mark.parametrize("dtype", ["uint8", "float64", "int16", "float32", "bool"])
def test_memmap_equals_loadmat(tmp_path, dtype):
    rng = np.random.default_rng(1)
    arrays = {"a": (rng.random((7, 3, 5)) > 0.5).astype(dtype), "longer_name_b": rng.random((4, 1)),
              "c": np.array([[2.5]]), "e": np.zeros((0, 3))}
    path = tmp_path / "x.mat"
    scipy.io.savemat(path, arrays, format="5", do_compression=False)
    mapped = memmap_mat_v5(path)
    loaded = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    assert set(mapped) == set(loaded)
    for k, v in loaded.items():
        assert mapped[k].shape == v.shape
        np.testing.assert_array_equal(np.asarray(mapped[k]), v)


def test_compressed_or_nonnumeric_falls_back(tmp_path):
    path = tmp_path / "z.mat"
    scipy.io.savemat(path, {"a": np.ones((3, 4))}, format="5", do_compression=True)
    assert memmap_mat_v5(path) is None
    scipy.io.savemat(path, {"a": np.ones((3, 4)), "s": "text"}, format="5")
    assert memmap_mat_v5(path) is None
    # both still open through scipy
    write = tmp_path / "valid.mat"
    x, y = _onehot(6, 20), np.eye(6, 3, dtype=np.uint8)
    scipy.io.savemat(write, {"validxdata": x.transpose(0, 2, 1), "validdata": y}, format="5", do_compression=True)
    with open_dataset(write) as ds:
        got_x, got_y = ds.load()
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_deepsea_v5_reads_in_blocks_from_the_map(tmp_path):
    x, y = _onehot(50, 30), (np.random.default_rng(2).random((50, 7)) > 0.7).astype(np.uint8)
    path = tmp_path / "test.mat"
    write_mat_v5(path, x, y, split="test")
    with open_dataset(path, crop=10) as ds:
        assert isinstance(ds._arrays["testxdata"], MappedArray)
        blocks = list(ds.iter_blocks(16))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks]), x[:, 10:20])
    np.testing.assert_array_equal(np.concatenate([b[2] for b in blocks]), y)


def test_truncated_v5_is_one_clear_error(tmp_path):
    path = tmp_path / "test.mat"
    write_mat_v5(path, _onehot(40, 30), np.zeros((40, 5), np.uint8), split="test")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ChromseqError, match="truncated"):
        open_dataset(path)
    path.write_bytes(data[:60])
    with pytest.raises(ChromseqError, match="truncated"):
        open_dataset(path)


def test_writer_in_blocks_reads_back_through_scipy_and_the_map(tmp_path):
    from chromseq.data.matv5 import MatV5Writer

    x, y = _onehot(37, 13, seed=3), (np.random.default_rng(4).random((37, 5)) < 0.4).astype(np.uint8)
    path = tmp_path / "test.mat"
    with MatV5Writer(path, 37, 13, 5, split="test") as writer:
        for start in range(0, 37, 10):
            writer.append(x[start:start + 10], y[start:start + 10])
    loaded = scipy.io.loadmat(path)
    assert loaded["testxdata"].dtype == np.uint8
    np.testing.assert_array_equal(loaded["testxdata"], x.transpose(0, 2, 1))
    np.testing.assert_array_equal(loaded["testdata"], y)
    with open_dataset(path) as ds:
        got_x, got_y = ds.load()
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_writer_left_short_leaves_no_file(tmp_path):
    from chromseq.data.matv5 import MatV5Writer

    with pytest.raises(ChromseqError, match="10 of 20 samples"):
        with MatV5Writer(tmp_path / "valid.mat", 20, 13, 5) as writer:
            writer.append(_onehot(10, 13), np.zeros((10, 5), np.uint8))
    assert list(tmp_path.iterdir()) == []
