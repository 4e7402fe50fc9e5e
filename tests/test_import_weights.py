"""`chromseq import`: published DeepSEA / Beluga (.pth) and DanQ (Keras 0.x HDF5) weights -> runs.

Each test writes weights in the published file layout (random values, small sizes where the format
allows), imports them, and compares the imported model's outputs with a float64 NumPy forward pass
of the published layer definitions (Torch: cross-correlation over (4, 1, L), channels-major
flatten; Theano/Keras 0.2: flipped convolution, LSTM gates i, c, f, o with the hard sigmoid).
Without torch the .pth files come from a minimal writer below; with torch, torch.save writes them
and torch itself computes the reference.
"""

from __future__ import annotations

import pickle
import struct
import zipfile

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.errors import ChromseqError
from chromseq.interop.importers import import_beluga, import_danq, import_deepsea
from chromseq.interop.torch_weights import read_torch_file
from chromseq.runs import Run, load_model

ATOL = 1e-5


# a minimal torch.save writer (legacy stream and zip archive) so the reader is tested without torch

def _unicode(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(i: int) -> bytes:
    return b"J" + struct.pack("<i", i)


def _ints_tuple(values) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def _state_dict_pickle(state: dict[str, np.ndarray], legacy: bool) -> bytes:
    """Protocol-2 pickle of an OrderedDict of tensors, as torch.save writes it (float32 storages)."""
    out = [b"\x80\x02", b"ccollections\nOrderedDict\n)R"]
    for i, (name, arr) in enumerate(state.items()):
        pid = [_unicode("storage"), b"ctorch\nFloatStorage\n", _unicode(str(i)), _unicode("cpu"), _int(arr.size)]
        if legacy:
            pid.append(b"N")  # no view
        strides = [int(np.prod(arr.shape[d + 1:])) for d in range(arr.ndim)]
        out += [_unicode(name), b"ctorch._utils\n_rebuild_tensor_v2\n(", b"(" + b"".join(pid) + b"tQ",
                _int(0), _ints_tuple(arr.shape), _ints_tuple(strides), b"\x89",
                b"ccollections\nOrderedDict\n)R", b"tR", b"s"]
    out.append(b".")
    return b"".join(out)


def write_pth(path, state: dict[str, np.ndarray], *, legacy: bool = True) -> None:
    state = {k: np.ascontiguousarray(v, np.float32) for k, v in state.items()}
    if legacy:  # torch < 1.6: magic, protocol, sys info, object, storage keys, then the storages
        with open(path, "wb") as f:
            for obj in (0x1950A86A20F9469CFC6C, 1001,
                        {"protocol_version": 1001, "little_endian": True,
                         "type_sizes": {"short": 2, "int": 4, "long": 4}}):
                f.write(pickle.dumps(obj, protocol=2))
            f.write(_state_dict_pickle(state, legacy=True))
            f.write(pickle.dumps([str(i) for i in range(len(state))], protocol=2))
            for arr in state.values():
                f.write(struct.pack("<q", arr.size) + arr.tobytes())
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("archive/data.pkl", _state_dict_pickle(state, legacy=False))
            z.writestr("archive/byteorder", "little")
            for i, arr in enumerate(state.values()):
                z.writestr(f"archive/data/{i}", arr.tobytes())


# NumPy references of the published layer definitions (float64)

def _conv_torch(h, w, b):
    """Torch Conv2d (out, in, 1, k) over (N, in, W) as cross-correlation."""
    win = np.lib.stride_tricks.sliding_window_view(h, w.shape[-1], axis=2)  # (N, in, W', k)
    return np.einsum("nctk,ock->not", win, w[:, :, 0, :]) + b[None, :, None]


def _pool(h, p):
    n, c, t = h.shape
    t2 = t // p
    return h[:, :, : t2 * p].reshape(n, c, t2, p).max(-1)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def torch_cnn_reference(x_agct, state, convs, pools, dense, act):
    """x (N, L, 4) -> probabilities of the Torch model: conv/act/pool, flatten (C, W), Linear, act, Linear."""
    f = (lambda z: np.where(z > 0, z, 1e-6)) if act == "threshold" else (lambda z: np.maximum(z, 0))
    h = np.asarray(x_agct, np.float64).transpose(0, 2, 1)
    for i, name in enumerate(convs):
        h = f(_conv_torch(h, state[f"{name}.weight"].astype(np.float64), state[f"{name}.bias"]))
        if i in pools:
            h = _pool(h, 4)
    h = h.reshape(len(h), -1)
    h = f(h @ state[f"{dense[0]}.weight"].T.astype(np.float64) + state[f"{dense[0]}.bias"])
    return _sigmoid(h @ state[f"{dense[1]}.weight"].T.astype(np.float64) + state[f"{dense[1]}.bias"])


LUA = (("0", "4", "8"), (0, 1), ("12.1", "14.1"))
BELUGA = (("model.0.0", "model.0.2", "model.0.6", "model.0.8", "model.0.12", "model.0.14"), (1, 3),
          ("model.1.2.1", "model.1.4.1"))


def random_state(rng, convs, channels, width, flat_positions, hidden, k, prefix=""):
    state, c_in = {}, 4
    for name, c_out in zip(convs[0], channels):
        state[f"{prefix}{name}.weight"] = rng.normal(0, 0.3, (c_out, c_in, 1, width))
        state[f"{prefix}{name}.bias"] = rng.normal(0, 0.1, c_out)
        c_in = c_out
    state[f"{prefix}{convs[2][0]}.weight"] = rng.normal(0, 0.3, (hidden, c_in * flat_positions))
    state[f"{prefix}{convs[2][0]}.bias"] = rng.normal(0, 0.1, hidden)
    state[f"{prefix}{convs[2][1]}.weight"] = rng.normal(0, 0.3, (k, hidden))
    state[f"{prefix}{convs[2][1]}.bias"] = rng.normal(0, 0.1, k)
    return {key: v.astype(np.float32) for key, v in state.items()}


def random_onehot(rng, n, length):
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]


def _strip(state, prefix):
    return {k[len(prefix):]: v for k, v in state.items()}


# the torch file reader

@pytest.mark.parametrize("legacy", [True, False])
def test_reader_reads_both_torch_layouts_without_torch(tmp_path, legacy):
    rng = np.random.default_rng(0)
    state = {"a.weight": rng.normal(size=(3, 4, 1, 2)), "a.bias": rng.normal(size=3)}
    write_pth(tmp_path / "w.pth", state, legacy=legacy)
    got = read_torch_file(tmp_path / "w.pth")
    assert list(got) == ["a.weight", "a.bias"]
    for key, value in state.items():
        np.testing.assert_array_equal(got[key], value.astype(np.float32))


def test_reader_refuses_code_and_foreign_files(tmp_path):
    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned",))

    (tmp_path / "evil.pth").write_bytes(b"".join(pickle.dumps(o, protocol=2) for o in
                                                 (0x1950A86A20F9469CFC6C, 1001, {}, Evil())))
    with pytest.raises(ChromseqError, match=r"evil.pth: the pickle refers to posix.system.*refused"):
        read_torch_file(tmp_path / "evil.pth")
    (tmp_path / "notes.pth").write_text("hello\n")
    with pytest.raises(ChromseqError, match="notes.pth: not a PyTorch weights file"):
        read_torch_file(tmp_path / "notes.pth")
    with zipfile.ZipFile(tmp_path / "other.pth", "w") as z:
        z.writestr("x.txt", "1")
    with pytest.raises(ChromseqError, match="other.pth: a zip file but not a torch.save archive"):
        read_torch_file(tmp_path / "other.pth")
    write_pth(tmp_path / "cut.pth", {"w": np.ones(1000)})
    data = (tmp_path / "cut.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[:-100])
    with pytest.raises(ChromseqError, match="cut.pth: the file ends inside storage 0; it is truncated"):
        read_torch_file(tmp_path / "cut.pth")


# DeepSEA and Beluga through the NumPy path

@pytest.mark.parametrize("prefix,legacy", [("", True), ("1.", False)])
def test_deepsea_import_matches_torch_layer_definitions(tmp_path, prefix, legacy):
    rng = np.random.default_rng(1)
    # L=200: 193 -> pool 48 -> 41 -> pool 10 -> 3 positions of 7 channels before the Linear layers
    state = random_state(rng, LUA, (6, 5, 7), 8, 3, 9, 5, prefix=prefix)
    write_pth(tmp_path / "deepsea_cpu.pth", state, legacy=legacy)
    run = import_deepsea(tmp_path / "deepsea_cpu.pth", tmp_path / "run", seq_len=200)
    x = random_onehot(rng, 6, 200)
    expected = torch_cnn_reference(x, _strip(state, prefix), *LUA, act="threshold")
    np.testing.assert_allclose(np.asarray(load_model(run)(x)), expected, atol=ATOL)
    r = Run.open(run)
    assert (r.alphabet, r.info.seq_len, r.info.n_features) == ("AGCT", 200, 5)
    assert r.config()["model"] == {"name": "deepsea", "params": {
        "conv_filters": [6, 5, 7], "conv_width": 8, "pool_size": 4, "dense_units": 9, "activation": "torch_threshold"}}


def test_selene_checkpoint_layout_is_read(tmp_path):
    rng = np.random.default_rng(2)
    selene = (("conv_net.0", "conv_net.4", "conv_net.8"), (0, 1), ("classifier.0", "classifier.2"))
    state = random_state(rng, selene, (6, 5, 7), 8, 3, 5, 5, prefix="model.")
    # Selene's DeepSEA uses Conv1d: weights (out, in, k)
    state = {k: (v[:, :, 0, :] if v.ndim == 4 else v) for k, v in state.items()}
    write_pth(tmp_path / "selene.pth", state)
    got = read_torch_file(tmp_path / "selene.pth")
    assert got["model.conv_net.0.weight"].shape == (6, 4, 8)
    # a Selene training checkpoint wraps the state dict: {"state_dict": ..., "epoch": ...}
    from chromseq.interop import importers

    name, prefix, found = importers._find_layout({"state_dict": got, "epoch": 3}, importers._DEEPSEA_LAYOUTS, "ck")
    assert (name, prefix) == ("selene", "model.") and found is got
    run = import_deepsea(tmp_path / "selene.pth", tmp_path / "run", seq_len=200)
    x = random_onehot(rng, 4, 200)
    ref_state = {k: (v[:, :, None, :] if v.ndim == 3 else v) for k, v in _strip(state, "model.").items()}
    np.testing.assert_allclose(np.asarray(load_model(run)(x)),
                               torch_cnn_reference(x, ref_state, *selene, act="relu"), atol=ATOL)


def test_beluga_import_matches_torch_layer_definitions(tmp_path):
    rng = np.random.default_rng(3)
    # L=400: 393, 386 -> 96 -> 89, 82 -> 20 -> 13, 6 positions
    state = random_state(rng, BELUGA, (6, 6, 5, 5, 7, 7), 8, 6, 8, 4)
    write_pth(tmp_path / "deepsea.beluga.pth", state)
    run = import_beluga(tmp_path / "deepsea.beluga.pth", tmp_path / "run", seq_len=400)
    x = random_onehot(rng, 5, 400)
    np.testing.assert_allclose(np.asarray(load_model(run)(x)),
                               torch_cnn_reference(x, state, *BELUGA, act="relu"), atol=ATOL)


def test_import_errors_name_the_layer_and_shape(tmp_path):
    rng = np.random.default_rng(4)
    state = random_state(rng, LUA, (6, 5, 7), 8, 3, 9, 5)
    write_pth(tmp_path / "w.pth", {k: v for k, v in state.items() if not k.startswith("14.1")})
    with pytest.raises(ChromseqError, match=r"w.pth: the state dict lacks the expected layers \(lua: 0.weight, "
                                            r"4.weight, 8.weight, 12.1.weight, 14.1.weight"):
        import_deepsea(tmp_path / "w.pth", tmp_path / "run")
    write_pth(tmp_path / "w.pth", state)
    with pytest.raises(ChromseqError, match="leave 3 positions before the dense layer; --seq-len 1000 leaves 53"):
        import_deepsea(tmp_path / "w.pth", tmp_path / "run", seq_len=1000)
    bad = dict(state, **{"4.weight": state["4.weight"][:, :3]})
    write_pth(tmp_path / "w.pth", bad)
    with pytest.raises(ChromseqError, match=r"4.weight: expected a convolution over 6 channels"):
        import_deepsea(tmp_path / "w.pth", tmp_path / "run")
    with pytest.raises(ChromseqError, match="beluga.pth: file not found"):
        import_beluga(tmp_path / "beluga.pth", tmp_path / "run")
    write_pth(tmp_path / "w.pth", state)
    (tmp_path / "names.txt").write_text("a\nb\n")
    with pytest.raises(ChromseqError, match="names.txt: 2 names but the model predicts 5 features"):
        import_deepsea(tmp_path / "w.pth", tmp_path / "run", seq_len=200, names=tmp_path / "names.txt")


# DanQ: Keras 0.2 / Theano HDF5

def _hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0, 1)


def _lstm_keras0(x, p, reverse=False):
    """Keras 0.2 LSTM over (N, T, D), params W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o."""
    (wi, ui, bi, wc, uc, bc, wf, uf, bf, wo, uo, bo) = [np.asarray(a, np.float64) for a in p]
    n, t, _ = x.shape
    h, c, out = np.zeros((n, len(bi))), np.zeros((n, len(bi))), np.zeros((n, t, len(bi)))
    for s in (range(t - 1, -1, -1) if reverse else range(t)):
        xt = x[:, s]
        i, f, o = (_hard_sigmoid(xt @ w + h @ u + b) for w, u, b in ((wi, ui, bi), (wf, uf, bf), (wo, uo, bo)))
        c = f * c + i * np.tanh(xt @ wc + h @ uc + bc)
        h = o * np.tanh(c)
        out[:, s] = h
    return out


def danq_reference(x, params, seya=True):
    w, b = params[0]
    # Theano's conv2d convolves: the kernel is flipped along the sequence
    win = np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float64), w.shape[2], axis=1)  # (N, T, 4, k)
    h = np.maximum(np.einsum("ntck,ock->nto", win, w[:, :, ::-1, 0]) + b, 0)
    t2 = h.shape[1] // 13
    h = h[:, : t2 * 13].reshape(len(h), t2, 13, -1).max(2)
    lstm = params[1]
    h = np.concatenate([_lstm_keras0(h, lstm[:12]), _lstm_keras0(h, lstm[12:], reverse=not seya)], -1)
    h = np.maximum(h.reshape(len(h), -1) @ params[2][0] + params[2][1], 0)
    return _sigmoid(h @ params[3][0] + params[3][1])


def write_danq_keras0(path, rng, filters=6, width=5, units=3, steps=7, hidden=4, k=5):
    """DanQ_train.py's Sequential as Keras 0.2 save_weights writes it: layer_0..layer_9, param_n."""
    r = lambda *shape: rng.normal(0, 0.4, shape).astype(np.float32)  # noqa: E731
    lstm = [a for _ in range(2) for _gate in "icfo" for a in (r(filters, units), r(units, units), r(units))]
    params = {0: [r(filters, 4, width, 1), r(filters)], 3: lstm, 6: [r(steps * 2 * units, hidden), r(hidden)],
              8: [r(hidden, k), r(k)]}
    with h5py.File(path, "w") as f:
        f.attrs["nb_layers"] = 10
        for layer in range(10):
            g = f.create_group(f"layer_{layer}")
            g.attrs["nb_params"] = len(params.get(layer, []))
            for n, arr in enumerate(params.get(layer, [])):
                g.create_dataset(f"param_{n}", data=arr)
    return [params[i] if i != 3 else lstm for i in (0, 3, 6, 8)]


@pytest.mark.parametrize("seya", [True, False])
def test_danq_import_matches_keras0_theano_definitions(tmp_path, seya):
    rng = np.random.default_rng(5)
    params = write_danq_keras0(tmp_path / "DanQ_bestmodel.hdf5", rng)
    # L=100: 96 conv positions -> 7 LSTM steps (pool 13)
    run = import_danq(tmp_path / "DanQ_bestmodel.hdf5", tmp_path / "run", seq_len=100, seya_bidirectional=seya)
    x = random_onehot(rng, 6, 100)
    np.testing.assert_allclose(np.asarray(load_model(run)(x)), danq_reference(x, params, seya=seya), atol=ATOL)


def test_danq_refuses_other_hdf5_files(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["testxdata"] = np.zeros((2, 4, 10))
    with pytest.raises(ChromseqError, match="x.h5: an HDF5 file but not Keras weights"):
        import_danq(tmp_path / "x.h5", tmp_path / "run")
    (tmp_path / "t.hdf5").write_text("text")
    with pytest.raises(ChromseqError, match="t.hdf5: not an HDF5 file"):
        import_danq(tmp_path / "t.hdf5", tmp_path / "run")


# the CLI, then predict on the imported run

def test_cli_import_then_predict_fasta(tmp_path):
    rng = np.random.default_rng(6)
    state = random_state(rng, LUA, (6, 5, 7), 8, 3, 9, 3)
    write_pth(tmp_path / "deepsea_cpu.pth", state)
    (tmp_path / "names").write_text("K562|CTCF|None\nGM12878|DNase|None\nHepG2|H3K4me3|None\n")
    runner = CliRunner()
    res = runner.invoke(main, ["import", "deepsea", str(tmp_path / "deepsea_cpu.pth"), "--out",
                               str(tmp_path / "run"), "--seq-len", "200", "--names", str(tmp_path / "names")])
    assert res.exit_code == 0, res.output
    assert "deepsea model, 200 bp (alphabet AGCT) -> 3 features" in res.output
    seqs = ["".join(rng.choice(list("ACGT"), 200)) for _ in range(3)]
    (tmp_path / "x.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    res = runner.invoke(main, ["predict", "--run", str(tmp_path / "run"), "--fasta", str(tmp_path / "x.fa"),
                               "--out", str(tmp_path / "p.tsv")])
    assert res.exit_code == 0, res.output
    lines = [ln.split("\t") for ln in (tmp_path / "p.tsv").read_text().splitlines() if not ln.startswith("#")]
    header, rows = lines[0], lines[1:]
    cols = [header.index(n) for n in ("K562|CTCF|None", "GM12878|DNase|None", "HepG2|H3K4me3|None")]
    got = np.array([[float(r[c]) for c in cols] for r in rows])
    x = np.stack([np.eye(4, dtype=np.float32)[["AGCT".index(b) for b in s]] for s in seqs])
    np.testing.assert_allclose(got, torch_cnn_reference(x, state, *LUA, act="threshold"), atol=1e-5)
    res = runner.invoke(main, ["import", "deepsea", str(tmp_path / "deepsea_cpu.pth"), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "run: the run directory exists and is not empty" in res.output


# with torch: the published nn.Sequential definitions, torch.save, and torch's own outputs

def _torch_deepsea(nn, channels=(320, 480, 960), flat=53, hidden=925, k=919):
    c1, c2, c3 = channels
    return nn.Sequential(
        nn.Conv2d(4, c1, (1, 8), (1, 1)), nn.Threshold(0, 1e-06), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(c1, c2, (1, 8), (1, 1)), nn.Threshold(0, 1e-06), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(c2, c3, (1, 8), (1, 1)), nn.Threshold(0, 1e-06), nn.Dropout(0.5), nn.Flatten(),
        nn.Sequential(nn.Identity(), nn.Linear(c3 * flat, hidden)), nn.Threshold(0, 1e-06),
        nn.Sequential(nn.Identity(), nn.Linear(hidden, k)), nn.Sigmoid()).eval()


def _torch_predict(torch, model, x_agct):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x_agct.transpose(0, 2, 1)[:, :, None, :]))).numpy()


def test_torch_saved_beluga_matches_torch(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is an optional extra (not in CI)")
    nn = torch.nn
    torch.manual_seed(0)

    class Beluga(nn.Module):  # FunctionLab/ExPecto chromatin.py, at reduced width
        def __init__(self):
            super().__init__()
            conv = lambda i, o: nn.Conv2d(i, o, (1, 8))  # noqa: E731
            self.model = nn.Sequential(
                nn.Sequential(conv(4, 8), nn.ReLU(), conv(8, 8), nn.ReLU(), nn.Dropout(0.2), nn.MaxPool2d((1, 4), (1, 4)),
                              conv(8, 6), nn.ReLU(), conv(6, 6), nn.ReLU(), nn.Dropout(0.2), nn.MaxPool2d((1, 4), (1, 4)),
                              conv(6, 5), nn.ReLU(), conv(5, 5), nn.ReLU()),
                nn.Sequential(nn.Dropout(0.5), nn.Flatten(), nn.Sequential(nn.Identity(), nn.Linear(5 * 6, 7)),
                              nn.ReLU(), nn.Sequential(nn.Identity(), nn.Linear(7, 4))),
                nn.Sigmoid())

        def forward(self, x):
            return self.model(x)

    model = Beluga().eval()
    torch.save(model.state_dict(), tmp_path / "deepsea.beluga.pth", _use_new_zipfile_serialization=False)
    run = import_beluga(tmp_path / "deepsea.beluga.pth", tmp_path / "run", seq_len=400)
    x = random_onehot(np.random.default_rng(7), 5, 400)
    np.testing.assert_allclose(np.asarray(load_model(run)(x)), _torch_predict(torch, model, x), atol=ATOL)


@pytest.mark.slow
def test_torch_saved_full_size_deepsea_matches_torch_on_real_sequences(tmp_path, shared_data):
    torch = pytest.importorskip("torch", reason="torch is an optional extra (not in CI)")
    torch.manual_seed(0)
    model = _torch_deepsea(torch.nn)
    # Kipoi's deepsea_variant_effects.pth: nn.Sequential(ReCodeAlphabet(), deepsea_cpu) -> keys "1.*"
    torch.save({f"1.{k}": v for k, v in model.state_dict().items()}, tmp_path / "deepsea_variant_effects.pth")
    (tmp_path / "names").write_text((shared_data / "deepsea" / "deepsea_predictor.names").read_text())
    run = import_deepsea(tmp_path / "deepsea_variant_effects.pth", tmp_path / "run", names=tmp_path / "names")
    with h5py.File(shared_data / "deepsea" / "danq_example.h5", "r") as f:
        x_real = np.asarray(f["testxdata"], np.float32).transpose(0, 2, 1)  # (8, 1000, 4), AGCT
    x = np.concatenate([x_real, random_onehot(np.random.default_rng(8), 4, 1000)])
    r = Run.open(run)
    assert r.info.seq_len == 1000 and r.feature_names[0] == "8988T|DNase|None"
    np.testing.assert_allclose(np.asarray(r.model(x)), _torch_predict(torch, model, x), atol=ATOL)


def test_published_lengths_fit_the_published_dense_layers():
    from chromseq.interop.importers import _cnn_out_len

    assert _cnn_out_len(1000, 8, 3, (0, 1)) * 960 == 50880     # DeepSEA: Linear(50880, 925)
    assert _cnn_out_len(2000, 8, 6, (1, 3)) * 640 == 67840     # Beluga: Linear(67840, 2003)
    assert (1000 - 26 + 1) // 13 * 640 == 75 * 640            # DanQ: Dense(75 * 640, 925)


def test_danq_keras1_layout_is_read_too(tmp_path):
    rng = np.random.default_rng(9)
    params = write_danq_keras0(tmp_path / "k0.hdf5", rng)
    with h5py.File(tmp_path / "k0.hdf5", "r") as src, h5py.File(tmp_path / "k1.hdf5", "w") as dst:
        names = [f"layer_{i}" for i in range(10)]
        dst.attrs["layer_names"] = [n.encode() for n in names]
        for n in names:
            g = dst.create_group(n)
            weights = [f"{n}_param_{p}".encode() for p in range(int(src[n].attrs["nb_params"]))]
            g.attrs["weight_names"] = weights
            for p, w in enumerate(weights):
                g.create_dataset(w.decode(), data=src[n][f"param_{p}"][()])
    run = import_danq(tmp_path / "k1.hdf5", tmp_path / "run", seq_len=100)
    x = random_onehot(rng, 3, 100)
    np.testing.assert_allclose(np.asarray(load_model(run)(x)), danq_reference(x, params), atol=ATOL)
