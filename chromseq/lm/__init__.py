"""chromseq.lm."""
