"""Training: ``train(config)`` streams data into Keras ``fit`` and records the run directory."""

from chromseq.training.fit import train

__all__ = ["train"]
