import h5py
import numpy as np
import pytest
import scipy.io

from chromseq.data.annotations import FeatureTable
from chromseq.data.encoding import decode, reverse_complement_str
from chromseq.data.mat import detect_container, open_dataset, write_mat_v5, write_mat_v73
from chromseq.errors import ChromseqError


def _random(n=50, length=30, k=7, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (n, length))]
    x[0, 3] = 0  # an N
    y = (rng.random((n, k)) < 0.2).astype(np.uint8)
    return x, y


def test_v73_train_round_trip_in_real_layout(tmp_path):
    x, y = _random()
    path = tmp_path / "train.mat"
    write_mat_v73(path, x, y, block=16)
    raw = path.read_bytes()
    assert raw[:19] == b"MATLAB 7.3 MAT-file" and raw[126:128] == b"IM" and raw[512:516] == b"\x89HDF"
    with h5py.File(path, "r") as f:  # exactly DeepSEA's orientation: sample axis last
        assert f["trainxdata"].shape == (30, 4, 50) and f["traindata"].shape == (7, 50)
        np.testing.assert_array_equal(np.transpose(f["trainxdata"][:], (2, 0, 1)), x)
    with pytest.raises(NotImplementedError):
        scipy.io.loadmat(path)  # scipy refuses v7.3, as with the real train.mat
    ds = open_dataset(path)
    assert (ds.container, ds.n_samples, ds.seq_len, ds.n_features, ds.alphabet) == ("mat-v7.3", 50, 30, 7, "AGCT")
    xr, yr = ds.read(10, 37)
    np.testing.assert_array_equal(xr, x[10:37])
    np.testing.assert_array_equal(yr, y[10:37])
    xa, ya = ds.load()
    np.testing.assert_array_equal(xa, x)
    ds.close()
    crop = open_dataset(path, crop=10, max_samples=20, features=[1, 3])
    xc, yc = crop.load()
    np.testing.assert_array_equal(xc, x[:20, 10:20])
    np.testing.assert_array_equal(yc, y[:20][:, [1, 3]])


def test_v5_valid_round_trip(tmp_path):
    x, y = _random(n=20)
    path = tmp_path / "valid.mat"
    write_mat_v5(path, x, y, split="valid")
    m = scipy.io.loadmat(path)
    assert m["validxdata"].shape == (20, 4, 30) and m["validdata"].shape == (20, 7)
    ds = open_dataset(path)
    assert ds.container == "mat-v5" and ds.x_key == "validxdata"
    xr, yr = ds.load()
    np.testing.assert_array_equal(xr, x)
    np.testing.assert_array_equal(yr, y)


def test_h5_and_npz_layouts(tmp_path):
    x, y = _random(n=12)
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["x"] = x.transpose(0, 2, 1)  # (N, 4, L)
        f["y"] = y
    np.savez(tmp_path / "b.npz", x=x, y=y)
    for name in ("a.h5", "b.npz"):
        xr, yr = open_dataset(tmp_path / name).load()
        np.testing.assert_array_equal(xr, x)
        np.testing.assert_array_equal(yr, y)


def test_real_danq_example_decodes_as_agct_with_reverse_complement_pairs(shared_data):
    ds = open_dataset(shared_data / "deepsea" / "danq_example.h5")
    assert (ds.n_samples, ds.seq_len, ds.has_labels) == (8, 1000, False)
    seqs = decode(ds.load()[0], ds.alphabet)
    rcs = {reverse_complement_str(s) for s in seqs}
    assert sum(s in rcs for s in seqs) == 8  # 4 forward/reverse-complement pairs
    for s in seqs:
        cg = s.count("CG") / max(1, s.count("C") * s.count("G") / len(s))
        assert cg < 0.6  # CpG depletion appears only when read as AGCT


def test_bad_inputs_give_one_line_errors(tmp_path):
    x, y = _random(n=10)
    with pytest.raises(ChromseqError, match="file not found"):
        open_dataset(tmp_path / "missing.mat")
    (tmp_path / "junk.mat").write_bytes(b"hello world, not a mat file at all")
    with pytest.raises(ChromseqError, match="not a MATLAB"):
        detect_container(tmp_path / "junk.mat")
    write_mat_v73(tmp_path / "t.mat", x, y)
    data = (tmp_path / "t.mat").read_bytes()
    (tmp_path / "trunc.mat").write_bytes(data[: len(data) // 3])
    with pytest.raises(ChromseqError):
        open_dataset(tmp_path / "trunc.mat").load()
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["weights"] = np.zeros((3, 3))
    with pytest.raises(ChromseqError, match="keys found: weights"):
        open_dataset(tmp_path / "other.h5")
    bad = y.copy()
    bad[0, 0] = 2
    np.savez(tmp_path / "labels.npz", x=x, y=bad)
    with pytest.raises(ChromseqError, match="0 or 1|binary"):
        open_dataset(tmp_path / "labels.npz").load()
    two = x.copy()
    two[1, 2] = 1
    np.savez(tmp_path / "onehot.npz", x=two, y=y)
    with pytest.raises(ChromseqError, match="sample 1 position 2"):
        open_dataset(tmp_path / "onehot.npz").load()
    np.savez(tmp_path / "shape.npz", x=x, y=y[:5])
    with pytest.raises(ChromseqError, match="expected"):
        open_dataset(tmp_path / "shape.npz")


def test_feature_table_names_list_and_sheets(tmp_path, shared_data):
    table = FeatureTable.read(shared_data / "deepsea" / "deepsea_predictor.names", n_features=919)
    assert table.feature_class[0] == "DNase" and table.feature_class[125] == "TF" and table.feature_class[918] == "histone"
    assert table.names[576] == "NA|NA|NA"
    assert len(table.select("CTCF")) > 10
    with pytest.raises(ChromseqError, match="919 rows but the data has 10"):
        FeatureTable.read(shared_data / "deepsea" / "deepsea_predictor.names", n_features=10)
    small = table.subset(range(5))
    small.write_tsv(tmp_path / "f.tsv")
    small.write_xlsx(tmp_path / "f.xlsx")
    for name in ("f.tsv", "f.xlsx"):
        back = FeatureTable.read(tmp_path / name, n_features=5)
        assert back.names == small.names and back.feature_class == ["DNase"] * 5
    assert FeatureTable.from_triples([("K562", "H3K4me3", "None"), ("K562", "CTCF", "None")]).feature_class == ["histone", "TF"]
