"""Model registry and architectures; importing it registers the custom layers for loading."""

from chromseq.models.clockwork import ClockworkCell
from chromseq.models.penalties import L2, MaxNorm
from chromseq.models.registry import MODEL_NAMES, VARIABLE_LENGTH, build_model, model_params

__all__ = ["MODEL_NAMES", "VARIABLE_LENGTH", "ClockworkCell", "L2", "MaxNorm", "build_model", "model_params"]
