"""chromseq.plots."""
