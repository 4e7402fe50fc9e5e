"""chromseq.baseline."""
