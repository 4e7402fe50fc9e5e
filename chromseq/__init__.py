"""chromseq: train, evaluate and explain neural networks that read DNA.

The command line is a thin layer over this API; the same functions work in a notebook.
Heavy submodules are imported lazily so that ``import chromseq`` stays fast, and importing it
changes nothing in the process. For training speed on the CPU call
``chromseq.pool_cpu_memory()`` before TensorFlow is imported (the command line does).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "ChromseqError": "chromseq.errors",
    "pool_cpu_memory": "chromseq.allocator",
    "load_model": "chromseq.runs",
    "Run": "chromseq.runs",
    "fit": "chromseq.training.core",
    "predict_batches": "chromseq.inference",
    "one_hot": "chromseq.data.encoding",
    "reverse_complement": "chromseq.data.encoding",
    "decode": "chromseq.data.encoding",
    "DEEPSEA_ALPHABET": "chromseq.data.encoding",
    "open_dataset": "chromseq.data.mat",
    "write_bundle": "chromseq.data.synth",
    "build_model": "chromseq.models.registry",
    "train": "chromseq.training",
    "evaluate": "chromseq.evaluation.evaluate",
    "per_feature_metrics": "chromseq.evaluation.metrics",
    "saliency_map": "chromseq.interpret",
    "in_silico_mutagenesis": "chromseq.interpret",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chromseq' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
