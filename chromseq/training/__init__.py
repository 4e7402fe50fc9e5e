"""chromseq.training."""
