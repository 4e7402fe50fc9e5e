"""Interpretation: saliency, signed attributions, temporal output scores, class optimization, ISM,
filter motifs, TF-MoDISco motifs from attributions.

Each method takes (model, one-hot batch (N, L, 4) in the model's alphabet, feature index,
batch size) and returns arrays.
"""

from chromseq.interpret.attributions import (
    Attributions,
    attributions,
    deep_lift_shap,
    gradient_x_input,
    integrated_gradients,
)
from chromseq.interpret.classopt import class_optimization
from chromseq.interpret.filters import filter_motifs
from chromseq.interpret.ism import in_silico_mutagenesis
from chromseq.interpret.modisco import find_motifs
from chromseq.interpret.motif_match import compare_motifs
from chromseq.interpret.saliency import saliency_map
from chromseq.interpret.temporal import temporal_scores

__all__ = ["Attributions", "attributions", "class_optimization", "compare_motifs", "deep_lift_shap", "filter_motifs",
           "find_motifs", "gradient_x_input", "in_silico_mutagenesis", "integrated_gradients", "saliency_map",
           "temporal_scores"]
