"""Interpretation: saliency, temporal output scores, class optimization, ISM, filter motifs.

Each method takes (model, one-hot batch (N, L, 4) in the model's alphabet, feature index,
batch size) and returns arrays.
"""

from chromseq.interpret.classopt import class_optimization
from chromseq.interpret.filters import filter_motifs
from chromseq.interpret.ism import in_silico_mutagenesis
from chromseq.interpret.motif_match import compare_motifs
from chromseq.interpret.saliency import saliency_map
from chromseq.interpret.temporal import temporal_scores

__all__ = ["class_optimization", "compare_motifs", "filter_motifs", "in_silico_mutagenesis", "saliency_map",
           "temporal_scores"]
