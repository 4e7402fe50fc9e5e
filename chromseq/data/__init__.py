"""Data: DeepSEA .mat files, streaming to tf.data, FASTA, BED, annotations, synthetic bundles.

Nothing here imports TensorFlow at module level (``make_tf_dataset`` imports it when called).
"""

from chromseq.data.annotations import FeatureTable
from chromseq.data.encoding import DEEPSEA_ALPHABET, decode, one_hot, reverse_complement
from chromseq.data.mat import (
    MatV73Writer,
    SeqDataset,
    detect_container,
    open_dataset,
    write_mat_v5,
    write_mat_v73,
)
from chromseq.data.stream import iter_batches, make_tf_dataset, steps_per_epoch

__all__ = [
    "DEEPSEA_ALPHABET",
    "FeatureTable",
    "MatV73Writer",
    "SeqDataset",
    "decode",
    "detect_container",
    "iter_batches",
    "make_tf_dataset",
    "one_hot",
    "open_dataset",
    "reverse_complement",
    "steps_per_epoch",
    "write_mat_v5",
    "write_mat_v73",
]
