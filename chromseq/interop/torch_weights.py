"""Read PyTorch weight files (``torch.save`` of a state dict) into NumPy arrays, without torch.

Two layouts exist:

* the zip archive of torch >= 1.6: ``<name>/data.pkl`` (the pickled object) beside raw storages
  ``<name>/data/<key>``;
* the legacy stream of torch < 1.6 (the Kipoi DeepSEA and Beluga files are of this kind): five
  pickles in a row (magic number, protocol version, system info, the object, the storage keys),
  then for each storage an int64 element count and its raw bytes.

A pickle can run any code on loading, so neither is read with plain ``pickle``: a restricted
unpickler resolves only the handful of globals ``torch.save`` writes for tensors and state dicts
(``collections.OrderedDict``, ``torch._utils._rebuild_tensor[_v2]``, ``_rebuild_parameter``, the
storage types) to harmless stand-ins that build NumPy arrays; anything else is refused with a
one-line ChromseqError. Torch's pre-0.4 tar format is refused too.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from chromseq.errors import ChromseqError

__all__ = ["read_torch_file"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# storage type -> NumPy dtype (little-endian; torch writes the machine's byte order, always little here)
_STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "BFloat16Storage": "bfloat16",
    "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "?",
}


class _StorageType:
    """Stand-in for ``torch.FloatStorage`` & co.: only its dtype matters."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A storage named in a pickle; its bytes are attached when the file provides them."""

    def __init__(self, storage_type: _StorageType, key: str, numel: int):
        self.storage_type = storage_type
        self.key = key
        self.numel = int(numel)
        self.array: np.ndarray | None = None

    def attach(self, raw: bytes, where: str) -> None:
        dtype = self.storage_type.dtype
        if dtype == "bfloat16":  # NumPy has no bfloat16: widen to float32 (exact)
            half = np.frombuffer(raw, "<u2")
            self.array = (half.astype(np.uint32) << 16).view(np.float32)
        else:
            self.array = np.frombuffer(raw, dtype)
        if self.array.size < self.numel:
            raise ChromseqError(f"{where}: storage {self.key} holds {self.array.size} values, "
                                f"the pickle says {self.numel}; the file is truncated")


class _LazyTensor:
    """A tensor whose storage bytes may come after the pickle (legacy format)."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)

    def materialize(self, where: str) -> np.ndarray:
        data = self.storage.array
        if data is None:
            raise ChromseqError(f"{where}: storage {self.storage.key} is missing from the file")
        if not self.size:
            return data[self.offset:self.offset + 1].reshape(()).copy()
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride) if n > 0)
        if min(self.size) > 0 and (self.offset < 0 or last >= data.size or min(self.stride) < 0):
            raise ChromseqError(f"{where}: a tensor of shape {self.size} reaches past its storage "
                                f"({data.size} values); the file is damaged")
        view = np.lib.stride_tricks.as_strided(data[self.offset:], self.size,
                                               [s * data.itemsize for s in self.stride], writeable=False)
        return np.array(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a storage")
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_ignored):
    return data


def _codecs_encode(text, encoding="latin1"):
    # protocol-2 pickles write bytes objects as _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("unexpected _codecs.encode call")
    return text.encode("latin1")


_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("_codecs", "encode"): _codecs_encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals a ``torch.save`` of tensors and state dicts writes."""

    def __init__(self, file, storages: dict[str, _Storage], where: str):
        super().__init__(file, encoding="utf-8")
        self.storages = storages
        self.where = where

    def find_class(self, module: str, name: str):
        if (module, name) in _GLOBALS:
            return _GLOBALS[(module, name)]
        if module in ("torch", "torch.cuda") and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise ChromseqError(f"{self.where}: the pickle refers to {module}.{name}, which a file of tensors "
                            "(torch.save of a state dict) never holds; refused (it could run code)")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or _text(pid[0]) != "storage":
            raise ChromseqError(f"{self.where}: unexpected persistent id {str(pid)[:60]!r} in the pickle")
        storage_type, key = pid[1], _text(pid[2])
        if not isinstance(storage_type, _StorageType):
            raise ChromseqError(f"{self.where}: storage {key} has no storage type")
        numel = pid[4] if len(pid) > 4 else None
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type, key, numel or 0)
        storage = self.storages[key]
        view = pid[5] if len(pid) > 5 else None
        if view is not None:  # legacy views (torch < 0.4): a window of the root storage
            view_key, offset, view_size = _text(view[0]), int(view[1]), int(view[2])
            return _ViewStorage(storage, view_key, offset, view_size)
        return storage


class _ViewStorage(_Storage):
    def __init__(self, root: _Storage, key: str, offset: int, numel: int):
        super().__init__(root.storage_type, key, numel)
        self.root, self.offset = root, offset

    @property
    def array(self):  # type: ignore[override]
        return None if self.root.array is None else self.root.array[self.offset:self.offset + self.numel]

    @array.setter
    def array(self, value):
        pass


def _text(value) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _materialize(obj, where: str):
    if isinstance(obj, _LazyTensor):
        return obj.materialize(where)
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _materialize(v, where)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _materialize(v, where) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_materialize(v, where) for v in obj)
    return obj


def read_torch_file(path: str | os.PathLike) -> Any:
    """The object a ``torch.save`` wrote to ``path``, tensors as NumPy arrays (torch is not needed).

    Usually an ``OrderedDict`` ``{"0.weight": ndarray, ...}`` (a state dict) or a dict holding one
    (a training checkpoint: ``{"state_dict": ..., "epoch": ...}``). Arrays keep torch's shapes
    (a Conv2d weight is (out, in, kh, kw)) and dtypes (bfloat16 becomes float32).

    Raises ChromseqError for files that are not torch files, are truncated, or whose pickle names
    anything but tensors and containers.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ChromseqError(f"{path}: file not found")
    if zipfile.is_zipfile(path):
        return _read_zip(path, where)
    with open(path, "rb") as f:
        head = f.read(512)
        f.seek(0)
        if len(head) >= 262 and head[257:262] == b"ustar":
            raise ChromseqError(f"{path}: a torch file of the tar format (PyTorch < 0.4) is not supported; "
                                "re-save it with torch.save(torch.load(path), new_path)")
        if not head.startswith(b"\x80"):
            raise ChromseqError(f"{path}: not a PyTorch weights file (neither a torch zip archive nor a "
                                "legacy torch pickle stream)")
        return _read_legacy(f, where)


def _read_zip(path: Path, where: str):
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ChromseqError(f"{where}: damaged zip archive ({exc})") from None
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ChromseqError(f"{where}: a zip file but not a torch.save archive (no single data.pkl; "
                                f"found {', '.join(names[:5])})")
        prefix = pickles[0][: -len("data.pkl")]
        if f"{prefix}byteorder" in names and archive.read(f"{prefix}byteorder").strip() != b"little":
            raise ChromseqError(f"{where}: written on a big-endian machine; not supported")
        storages: dict[str, _Storage] = {}
        try:
            obj = _RestrictedUnpickler(io.BytesIO(archive.read(pickles[0])), storages, where).load()
        except ChromseqError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged pickle: one line naming the file
            raise ChromseqError(f"{where}: cannot read data.pkl ({type(exc).__name__}: {exc})") from None
        for key, storage in storages.items():
            if isinstance(storage, _ViewStorage):
                continue
            member = f"{prefix}data/{key}"
            if member not in names:
                raise ChromseqError(f"{where}: storage {member} is missing from the archive")
            storage.attach(archive.read(member), where)
    return _materialize(obj, where)


def _read_legacy(f, where: str):
    storages: dict[str, _Storage] = {}

    def load(what: str, into: dict[str, _Storage]):
        # every pickle of the stream goes through the restricted unpickler, headers included
        try:
            return _RestrictedUnpickler(f, into, where).load()
        except ChromseqError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged stream: one line naming the file
            raise ChromseqError(f"{where}: not a readable torch file ({what}: {type(exc).__name__}: {exc})") from None

    if load("magic number", {}) != _LEGACY_MAGIC:
        raise ChromseqError(f"{where}: not a PyTorch weights file (wrong magic number)")
    protocol = load("protocol", {})
    if protocol != _LEGACY_PROTOCOL:
        raise ChromseqError(f"{where}: unsupported legacy torch protocol {protocol}")
    sys_info = load("system info", {})
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise ChromseqError(f"{where}: written on a big-endian machine; not supported")
    obj = load("object", storages)
    for key in load("storage keys", {}):
        key = _text(key)
        storage = storages.get(key)
        if storage is None or isinstance(storage, _ViewStorage):
            raise ChromseqError(f"{where}: storage {key} is listed but not used by the pickle")
        size = f.read(8)
        if len(size) < 8:
            raise ChromseqError(f"{where}: the file ends before storage {key}; it is truncated")
        (numel,) = struct.unpack("<q", size)
        dtype = storage.storage_type.dtype
        itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        raw = f.read(numel * itemsize)
        if numel < 0 or len(raw) < numel * itemsize:
            raise ChromseqError(f"{where}: the file ends inside storage {key}; it is truncated")
        storage.numel = numel
        storage.attach(raw, where)
    return _materialize(obj, where)
