import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data import iter_batches, open_dataset, write_mat_v73
from chromseq.data.convert import convert_dataset
from chromseq.data.encoding import pack_onehot, unpack_onehot
from chromseq.errors import ChromseqError


def _train_mat(tmp_path, n=700, length=15, k=11):
    rng = np.random.default_rng(5)
    x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (n, length))]
    x[3, 4] = 0  # an N (all-zero row) must survive packing
    y = (rng.random((n, k)) < 0.3).astype(np.uint8)
    write_mat_v73(tmp_path / "train.mat", x, y)
    (tmp_path / "features.tsv").write_text("name\tcell_type\tassay\ttreatment\tclass\n"
                                           + "".join(f"f{i}\tc\tDNase\tNone\tDNase\n" for i in range(k)))
    return x, y


def test_pack_round_trip_odd_length():
    x = np.eye(4, dtype=np.uint8)[np.random.default_rng(0).integers(0, 4, (5, 7))]
    bits = pack_onehot(x)
    assert bits.shape == (5, 4) and bits.dtype == np.uint8  # 28 bits -> 4 bytes
    np.testing.assert_array_equal(unpack_onehot(bits, 7), x)


@pytest.mark.parametrize("pack", [True, False])
def test_convert_reads_back_identical_and_streams_identical_batches(tmp_path, pack):
    x, y = _train_mat(tmp_path)
    out = tmp_path / "store" / "train.h5"
    summary = convert_dataset(tmp_path / "train.mat", out, pack=pack, chunk_samples=64, block_size=256,
                              progress=False)
    assert summary["samples"] == 700 and summary["positives_total"] == int(y.sum())
    assert (out.parent / "features.tsv").exists()
    with h5py.File(out) as fh:
        assert fh["x"].chunks[0] == 64  # sample-major chunks
        assert fh["x"].shape == ((700, 8) if pack else (700, 15, 4))  # 60 bits -> 8 bytes
    store = open_dataset(out)
    assert (store.n_samples, store.seq_len, store.n_features, store.alphabet) == (700, 15, 11, "AGCT")
    assert store.feature_names[:2] == ["f0", "f1"]
    xs, ys = store.load()
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)
    # crops (odd and even offsets into the packed bytes), blocks and feature subsets read like the source
    for crop in (5, 6, 9):
        a, b = open_dataset(tmp_path / "train.mat", crop=crop), open_dataset(out, crop=crop)
        np.testing.assert_array_equal(a.read(13, 301)[0], b.read(13, 301)[0])
    sub = open_dataset(out, features=[2, 7]).read(0, 50)[1]
    np.testing.assert_array_equal(sub, y[:50][:, [2, 7]])
    kw = dict(batch_size=32, seed=4, epoch=2, block_size=100, shuffle_buffer_blocks=3, rc_augment=True)
    for (xa, ya), (xb, yb) in zip(iter_batches(open_dataset(tmp_path / "train.mat"), **kw),
                                  iter_batches(store, **kw), strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_packed_store_is_eight_times_smaller(tmp_path):
    _train_mat(tmp_path, n=2000, length=200)
    packed = convert_dataset(tmp_path / "train.mat", tmp_path / "p.h5", progress=False)
    plain = convert_dataset(tmp_path / "train.mat", tmp_path / "u.h5", pack=False, progress=False)
    assert plain["bytes_out"] / packed["bytes_out"] > 6


def test_convert_cli_and_bad_input(tmp_path):
    _train_mat(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["data", "convert", str(tmp_path / "train.mat"), "--out", str(tmp_path / "t.h5"),
                               "--compression", "lzf"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["data", "inspect", str(tmp_path / "t.h5")])
    assert res.exit_code == 0 and "bit-packed" in res.output
    res = runner.invoke(main, ["data", "convert", str(tmp_path / "nope.mat"), "--out", str(tmp_path / "x.h5")])
    assert res.exit_code != 0 and "file not found" in res.output
    assert not (tmp_path / "x.h5").exists() and not list(tmp_path.glob(".*partial"))
    with pytest.raises(ChromseqError, match="overwrite"):
        convert_dataset(tmp_path / "train.mat", tmp_path / "train.mat")
    with h5py.File(tmp_path / "t.h5", "a") as fh:  # damage the store: wrong packed width
        fh["x"].attrs["packed_shape"] = (40, 4)
    with pytest.raises(ChromseqError, match="packed store"):
        open_dataset(tmp_path / "t.h5")
