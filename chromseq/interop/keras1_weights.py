"""Read the HDF5 weight files of Keras 0.x and 1.x (``model.save_weights``), layer by layer.

Two layouts:

* Keras 0.x (DanQ's ``DanQ_bestmodel.hdf5``, Keras 0.2 / Theano): root attribute ``nb_layers``,
  groups ``layer_<k>`` with attribute ``nb_params`` and datasets ``param_<n>``;
* Keras 1.x/2.x: root attribute ``layer_names``, a group per layer with attribute
  ``weight_names`` naming its datasets (a whole-model file keeps them under ``model_weights``).

Arrays come back exactly as stored (Theano kernels included); interpreting them is the importer's job.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

__all__ = ["read_keras1_weights"]


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_keras1_weights(path: str | os.PathLike) -> list[tuple[str, list[np.ndarray]]]:
    """``[(layer name, [arrays in the layer's own order]), ...]`` for every layer, in model order
    (layers without weights included, with an empty list).

    Raises ChromseqError when ``path`` is not HDF5 or holds neither layout.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ChromseqError(f"{path}: file not found")
    if not h5py.is_hdf5(path):
        raise ChromseqError(f"{path}: not an HDF5 file (expected Keras weights saved with save_weights)")
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        try:
            if "nb_layers" in root.attrs:
                return _read_keras0(root)
            if "layer_names" in root.attrs:
                return _read_keras1(root)
        except KeyError as exc:
            raise ChromseqError(f"{path}: damaged Keras weights file ({exc})") from None
        raise ChromseqError(f"{path}: an HDF5 file but not Keras weights (no 'nb_layers' or 'layer_names' "
                            f"attribute; keys: {', '.join(list(root)[:5])})")


def _read_keras0(root) -> list[tuple[str, list[np.ndarray]]]:
    layers = []
    for k in range(int(root.attrs["nb_layers"])):
        group = root[f"layer_{k}"]
        n = int(group.attrs.get("nb_params", 0))
        layers.append((f"layer_{k}", [np.asarray(group[f"param_{p}"]) for p in range(n)]))
    return layers


def _read_keras1(root) -> list[tuple[str, list[np.ndarray]]]:
    layers = []
    for name in (_text(n) for n in root.attrs["layer_names"]):
        group = root[name]
        names = [_text(w) for w in group.attrs.get("weight_names", [])]
        layers.append((name, [np.asarray(group[w]) for w in names]))
    return layers
