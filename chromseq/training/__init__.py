"""Training: ``fit(model, train_data, valid, run_dir, ...)`` is the one training core (run directory,
checkpoints, exact resume, early stopping, NaN stop, distributed loop); ``train(config)`` assembles a
model and its data from a config and calls it."""

from chromseq.training.core import FitResult, fit
from chromseq.training.from_config import train

__all__ = ["FitResult", "fit", "train"]
