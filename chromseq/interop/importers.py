"""Published weights -> chromseq run directories that ``eval``, ``predict``, ``variant-effect`` and
``interpret`` use unchanged. Nothing is downloaded: give the file you have.

=============  ==========================================================================================
importer       file it expects (as published)
=============  ==========================================================================================
``deepsea``    The Lua DeepSEA converted to a PyTorch state dict: ``deepsea_cpu.pth`` (the DeepSEA v0.9
               release, sourceforge.net/projects/bionas/files/DeepSEA_v0.9/; also kipoi/models
               ``DeepSEA/template/model_files/deepsea_cpu.pth``), or Kipoi's
               ``deepsea_variant_effects.pth`` / ``deepsea_predict.pth`` (zenodo.org/record/1466993).
               Keys ``0``, ``4``, ``8`` (Conv2d 4->320->480->960, (1, 8)), ``12.1`` (Linear 50880->925),
               ``14.1`` (Linear 925->919), possibly under a prefix (``1.``, ``2.``, ``model.``) or a
               ``state_dict`` entry; activations ``nn.Threshold(0, 1e-6)``. Selene's own ``DeepSEA``
               class (keys ``conv_net.0/4/8``, ``classifier.0/2``, ReLU) is read too.
``beluga``     ExPecto's ``deepsea.beluga.pth`` (FunctionLab/ExPecto ``resources/``, fetched by its
               ``download_resources.sh``; the same file is Kipoi's ``DeepSEA/beluga`` weights,
               zenodo.org/record/3402406). Keys ``model.0.{0,2,6,8,12,14}`` (Conv2d (1, 8)),
               ``model.1.2.1`` (Linear 67840->2003), ``model.1.4.1`` (Linear 2003->2002).
``danq``       ``DanQ_bestmodel.hdf5`` (cbcl.ics.uci.edu/public_data/DanQ/, named in uci-cbcl/DanQ
               ``weights/README.md``): Keras 0.2 / Theano ``save_weights`` of DanQ_train.py's model
               (``layer_0`` Convolution1D W (320, 4, 26, 1), ``layer_3`` the seya Bidirectional LSTM's
               24 arrays, ``layer_6``/``layer_8`` Dense). The Keras 1 layout (``layer_names``) is read too.
=============  ==========================================================================================

Every input is one-hot in the order **A, G, C, T** (the DeepSEA .mat order these models were
trained on; Kipoi's wrappers recode ACGT to it), so the runs record ``alphabet: AGCT``.
Conversions: Torch's Conv2d weight (out, in, 1, w) becomes Keras' (w, in, out) (both
cross-correlate); Torch flattens (C, 1, W) channels-major where Keras flattens (W, C), so the
first Linear's columns are permuted; Theano's convolution flips its kernel, so DanQ's is reversed
along the sequence; Keras 0.x keeps LSTM gates in the order i, c, f, o, Keras 3 in i, f, c, o.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from chromseq.data.build import _sha256  # the dataset files record the same digest
from chromseq.errors import ChromseqError

__all__ = ["FORMATS", "import_beluga", "import_danq", "import_deepsea", "import_weights"]

# published input lengths; a file's weights fix the length only up to pooling remainders
_PUBLISHED_LENGTH = {"deepsea": 1000, "beluga": 2000, "danq": 1000}

# (conv keys, pool after these conv indices, dense keys, activation) per state-dict layout
_DEEPSEA_LAYOUTS = {
    "lua": (("0", "4", "8"), (0, 1), ("12.1", "14.1"), "torch_threshold"),
    "selene": (("conv_net.0", "conv_net.4", "conv_net.8"), (0, 1), ("classifier.0", "classifier.2"), "relu"),
}
_BELUGA_LAYOUT = (("model.0.0", "model.0.2", "model.0.6", "model.0.8", "model.0.12", "model.0.14"),
                  (1, 3), ("model.1.2.1", "model.1.4.1"), "relu")
_POOL = 4


def import_deepsea(weights: str | os.PathLike, out: str | os.PathLike, *, names: str | os.PathLike | None = None,
                   seq_len: int | None = None, overwrite: bool = False) -> Path:
    """Turn a DeepSEA ``.pth`` (see the module doc) into the run directory ``out``; returns ``out``.

    ``names``: the feature names (e.g. kipoi/models ``DeepSEA/predictor.names``, 919 lines of
    ``cell|assay|treatment``), written as ``features.tsv``. ``seq_len``: the input length; by
    default 1000 bp (the published one) when the weights allow it.
    """
    state = _torch_state(weights)
    layout, prefix, state = _find_layout(state, _DEEPSEA_LAYOUTS, weights)
    convs, pools, dense, act = _DEEPSEA_LAYOUTS[layout]
    arrays = _torch_arrays(state, prefix, convs, dense, weights)
    filters = tuple(int(w.shape[-1]) for w, _ in arrays["convs"])
    width = int(arrays["convs"][0][0].shape[0])
    hidden, k = int(arrays["dense"][0][0].shape[1]), int(arrays["dense"][1][0].shape[1])
    length = _length("deepsea", seq_len, arrays["flat_len"], lambda n: _cnn_out_len(n, width, 3, pools), weights)
    params = {"conv_filters": list(filters), "conv_width": width, "pool_size": _POOL, "dense_units": hidden,
              "activation": act}
    layers = [f"conv{i + 1}" for i in range(3)]
    model = _torch_cnn_model("deepsea", length, k, params, layers, arrays, weights)
    return _write_run(model, out, "deepsea", params, weights, names, overwrite, extra={"layout": layout})


def import_beluga(weights: str | os.PathLike, out: str | os.PathLike, *, names: str | os.PathLike | None = None,
                  seq_len: int | None = None, overwrite: bool = False) -> Path:
    """Turn ExPecto's ``deepsea.beluga.pth`` into the run directory ``out`` (2000 bp by default).

    ``names``: e.g. kipoi/models ``DeepSEA/beluga/predictor_names.txt`` (2,002 names, one a line).
    """
    state = _torch_state(weights)
    _, prefix, state = _find_layout(state, {"beluga": _BELUGA_LAYOUT}, weights)
    convs, pools, dense, _act = _BELUGA_LAYOUT
    arrays = _torch_arrays(state, prefix, convs, dense, weights)
    filters = tuple(int(w.shape[-1]) for w, _ in arrays["convs"][1::2])
    width = int(arrays["convs"][0][0].shape[0])
    hidden, k = int(arrays["dense"][0][0].shape[1]), int(arrays["dense"][1][0].shape[1])
    length = _length("beluga", seq_len, arrays["flat_len"], lambda n: _cnn_out_len(n, width, 6, pools), weights)
    params = {"conv_filters": list(filters), "conv_width": width, "pool_size": _POOL, "dense_units": hidden}
    layers = [f"conv{i + 1}_{j}" for i in range(3) for j in (1, 2)]
    model = _torch_cnn_model("beluga", length, k, params, layers, arrays, weights)
    return _write_run(model, out, "beluga", params, weights, names, overwrite)


def import_danq(weights: str | os.PathLike, out: str | os.PathLike, *, names: str | os.PathLike | None = None,
                seq_len: int | None = None, seya_bidirectional: bool = True, overwrite: bool = False) -> Path:
    """Turn DanQ's ``DanQ_bestmodel.hdf5`` into the run directory ``out`` (1000 bp by default).

    ``seya_bidirectional`` (default, as published): the second LSTM reads the sequence forward,
    as seya's ``Bidirectional`` did in DanQ's training (it reversed the batch axis, not time;
    EderSantana/seya#32). ``False`` treats it as a true backward LSTM. Gates use Keras 0.x's hard
    sigmoid ``clip(0.2 x + 0.5, 0, 1)``.
    """
    from chromseq.interop.keras1_weights import read_keras1_weights

    where = str(weights)
    layers = [(name, arrays) for name, arrays in read_keras1_weights(weights) if arrays]
    counts = [len(a) for _, a in layers]
    if len(layers) != 4 or counts[0] != 2 or counts[1] not in (24, 6) or counts[2:] != [2, 2]:
        raise ChromseqError(f"{where}: expected DanQ's 4 layers with weights (Convolution1D 2 arrays, "
                            f"bidirectional LSTM 24 or 6, Dense 2, Dense 2); found {counts}")
    (w_conv, b_conv), lstm, (w1, b1), (w2, b2) = [a for _, a in layers]
    if w_conv.ndim != 4 or w_conv.shape[1] != 4 or w_conv.shape[3] != 1:
        raise ChromseqError(f"{where}: {layers[0][0]}: expected a Theano Convolution1D kernel "
                            f"(filters, 4, width, 1), got {w_conv.shape}")
    filters, width = int(w_conv.shape[0]), int(w_conv.shape[2])
    kernel = np.ascontiguousarray(w_conv[:, :, ::-1, 0].transpose(2, 1, 0))  # Theano convolves: flip
    forward, backward = _keras0_lstm(lstm[: len(lstm) // 2], where), _keras0_lstm(lstm[len(lstm) // 2:], where)
    units = int(forward[1].shape[0])
    if forward[0].shape[0] != filters:
        raise ChromseqError(f"{where}: {layers[1][0]}: LSTM input size {forward[0].shape[0]} does not match the "
                            f"{filters} convolution filters")
    hidden, k = int(w1.shape[1]), int(w2.shape[1])
    if w1.shape[0] % (2 * units) or w2.shape[0] != hidden:
        raise ChromseqError(f"{where}: Dense kernels {w1.shape} and {w2.shape} do not follow a BiLSTM of "
                            f"{2 * units} outputs")
    pool = 13
    length = _length("danq", seq_len, w1.shape[0] // (2 * units), lambda n: (n - width + 1) // pool, weights)
    params = {"conv_filters": filters, "conv_width": width, "pool_size": pool, "lstm_units": units,
              "dense_units": hidden, "recurrent_activation": "keras1_hard_sigmoid",
              "seya_bidirectional": bool(seya_bidirectional)}
    from chromseq.models import build_model

    model = build_model("danq", length, k, **params)
    _set(model, "conv1", [kernel, b_conv], where)
    if seya_bidirectional:
        _set(model, "lstm_1", list(forward), where)
        _set(model, "lstm_2", list(backward), where)
    else:
        _set(model, "bilstm", [*forward, *backward], where)
    _set(model, "dense", [w1, b1], where)
    _set(model, "logits", [w2, b2], where)
    return _write_run(model, out, "danq", params, weights, names, overwrite)


FORMATS = {"deepsea": import_deepsea, "beluga": import_beluga, "danq": import_danq}


def import_weights(fmt: str, weights: str | os.PathLike, out: str | os.PathLike, **kwargs) -> Path:
    """``FORMATS[fmt](weights, out, **kwargs)``: one entry point for the CLI."""
    if fmt not in FORMATS:
        raise ChromseqError(f"unknown weights format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[fmt](weights, out, **kwargs)


# PyTorch state dicts

def _torch_state(path) -> Mapping:
    from chromseq.interop.torch_weights import read_torch_file

    return read_torch_file(path)


def _tensors(obj) -> dict[str, np.ndarray]:
    return {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, np.ndarray)}


def _find_layout(obj, layouts: dict, where) -> tuple[str, str, Mapping]:
    """The layout whose keys the state dict holds, the prefix they carry (``""``, ``"1."``,
    ``"model."``) and the state dict itself."""
    if not isinstance(obj, Mapping):
        raise ChromseqError(f"{where}: the torch file holds a {type(obj).__name__}, not a state dict")
    # a state dict, or a checkpoint holding one ({"state_dict": ...}, {"model": ...})
    candidates = [obj] + [v for v in obj.values() if isinstance(v, Mapping)]
    for state in candidates:
        keys = set(_tensors(state))
        for name, (convs, _, dense, _) in layouts.items():
            needed = [f"{layer}.{p}" for layer in (*convs, *dense) for p in ("weight", "bias")]
            first = needed[0]
            for key in sorted(keys, key=len):
                if key.endswith(first) and (key == first or key[: -len(first)].endswith(".")):
                    prefix = key[: -len(first)]
                    if all(prefix + n in keys for n in needed):
                        return name, prefix, state
    some = sorted(_tensors(candidates[-1] if len(candidates) > 1 else obj))[:6]
    wanted = "; ".join(f"{n}: {', '.join(c + '.weight' for c in (*convs, *dense))}"
                       for n, (convs, _, dense, _) in layouts.items())
    raise ChromseqError(f"{where}: the state dict lacks the expected layers ({wanted}); it holds "
                        f"{', '.join(some) or 'no tensors'}")


def _torch_arrays(state, prefix: str, convs, dense, where) -> dict:
    """Conv weights as Keras (w, in, out) and biases; Linear weights as Keras (in, out), the first
    with its rows reordered from Torch's channels-major flatten to Keras' position-major one."""
    out: dict = {"convs": [], "dense": []}
    channels = 4
    for name in convs:
        w, b = state[f"{prefix}{name}.weight"], state[f"{prefix}{name}.bias"]
        if w.ndim == 4 and w.shape[2] == 1:
            w = w[:, :, 0, :]
        if w.ndim != 3 or w.shape[1] != channels or b.shape != (w.shape[0],):
            raise ChromseqError(f"{where}: {prefix}{name}.weight: expected a convolution over {channels} channels "
                                f"(out, {channels}, 1, width) with a bias (out,), got {w.shape} and {b.shape}")
        out["convs"].append((np.ascontiguousarray(w.transpose(2, 1, 0), np.float32), b.astype(np.float32)))
        channels = int(w.shape[0])
    (w1, b1), (w2, b2) = ((state[f"{prefix}{n}.weight"], state[f"{prefix}{n}.bias"]) for n in dense)
    if w1.ndim != 2 or w1.shape[1] % channels or w2.ndim != 2 or w2.shape[1] != w1.shape[0]:
        raise ChromseqError(f"{where}: {prefix}{dense[0]}.weight {w1.shape} / {prefix}{dense[1]}.weight "
                            f"{w2.shape}: expected Linear(positions x {channels}, hidden) then Linear(hidden, K)")
    positions = w1.shape[1] // channels
    # Torch row index c * W + w (channels-major) -> Keras row index w * C + c
    k1 = w1.reshape(w1.shape[0], channels, positions).transpose(2, 1, 0).reshape(positions * channels, -1)
    out["dense"] = [(np.ascontiguousarray(k1, np.float32), b1.astype(np.float32)),
                    (np.ascontiguousarray(w2.T, np.float32), b2.astype(np.float32))]
    out["flat_len"] = positions
    return out


def _cnn_out_len(n: int, width: int, n_convs: int, pools) -> int:
    for i in range(n_convs):
        n = n - width + 1
        if i in pools:
            n //= _POOL
    return n


def _length(model: str, seq_len: int | None, positions: int, out_len, where) -> int:
    """The input length: ``seq_len`` if given (checked), else the published one, else the
    shortest length the first Linear layer's size allows."""
    if seq_len is not None:
        if out_len(seq_len) != positions:
            raise ChromseqError(f"{where}: the weights fit inputs that leave {positions} positions before the "
                                f"dense layer; --seq-len {seq_len} leaves {out_len(seq_len)}")
        return seq_len
    if out_len(_PUBLISHED_LENGTH[model]) == positions:
        return _PUBLISHED_LENGTH[model]
    for n in range(1, 100_000):
        if out_len(n) == positions:
            return n
    raise ChromseqError(f"{where}: no input length leaves {positions} positions before the dense layer")


def _torch_cnn_model(name: str, length: int, k: int, params: dict, conv_layers: list[str], arrays: dict, where):
    from chromseq.models import build_model

    model = build_model(name, length, k, **params)
    for layer, (w, b) in zip(conv_layers, arrays["convs"]):
        _set(model, layer, [w, b], where)
    _set(model, "dense", list(arrays["dense"][0]), where)
    _set(model, "logits", list(arrays["dense"][1]), where)
    return model


# Keras 0.x / 1.x

def _keras0_lstm(arrays: list[np.ndarray], where) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keras 3 (kernel, recurrent_kernel, bias), gates i, f, c, o, from Keras 0.x's 12 arrays
    (W, U, b for i, c, f, o) or Keras >= 1.1's 3 (already i, f, c, o)."""
    if len(arrays) == 3:
        return tuple(np.asarray(a, np.float32) for a in arrays)
    if len(arrays) != 12:
        raise ChromseqError(f"{where}: an LSTM with {len(arrays)} weight arrays; expected 12 (Keras 0.x) or 3")
    gates = {g: arrays[3 * i: 3 * i + 3] for i, g in enumerate("icfo")}
    return tuple(np.concatenate([gates[g][j] for g in "ifco"], axis=-1).astype(np.float32) for j in range(3))


# the run directory

def _set(model, layer: str, values: list[np.ndarray], where) -> None:
    target = model.get_layer(layer)
    shapes = [tuple(w.shape) for w in target.get_weights()]
    got = [tuple(np.shape(v)) for v in values]
    if shapes != got:
        raise ChromseqError(f"{where}: layer {layer} expects weights of shapes {shapes}, the file gives {got}")
    target.set_weights([np.asarray(v, np.float32) for v in values])


def _feature_table(names, k: int):
    from chromseq.data.annotations import FeatureTable

    path = Path(names)
    if not path.is_file():
        raise ChromseqError(f"{path}: names file not found")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    if lines and not any(sep in lines[0] for sep in ("|", "\t", ",")):
        # a plain list, one name a line (Beluga's predictor_names.txt)
        if len(lines) != k:
            raise ChromseqError(f"{path}: {len(lines)} names but the model predicts {k} features")
        na = ["NA"] * k
        return FeatureTable(lines, list(na), list(na), list(na), ["all"] * k)
    return FeatureTable.read(path, n_features=k)


def _write_run(model, out, name: str, params: dict, weights, names, overwrite: bool, extra: dict | None = None) -> Path:
    from chromseq import runs
    from chromseq.config import Config, ModelConfig
    from chromseq.models.portable import save_portable
    from chromseq.outputs import check_writable

    out, weights = Path(out), Path(weights)
    k = int(model.output_shape[-1])
    table = _feature_table(names, k) if names else None
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ChromseqError(f"{out}: the run directory exists and is not empty; choose another --out or "
                            "pass --overwrite")
    check_writable(out, folder=True)
    out.mkdir(parents=True, exist_ok=True)
    length = int(model.input_shape[1])
    cfg = Config(name=out.name, run_dir=str(out), model=ModelConfig(name=name, params=params))
    source = {"imported_from": str(weights.resolve()), "sha256": _sha256(weights), "format": name, **(extra or {})}
    header = (f"# imported by `chromseq import {name}` from {weights} (sha256 {source['sha256'][:16]}...);\n"
              "# the data paths below are placeholders: point them at your files to fine-tune.\n")
    runs.atomic_write_text(out / runs.CONFIG_FILE, header + cfg.to_yaml())
    runs.write_json(out / runs.ENV_FILE, {"command": sys.argv, **source})
    runs.write_run_info(out, runs.RunInfo(path=out, alphabet="AGCT", seq_len=length, n_features=k,
                                          extra={"model": name, **source}))
    if table is not None:
        table.write_tsv(out / runs.FEATURES_FILE)
    save_portable(model, out / runs.MODEL_FILE)
    return out
