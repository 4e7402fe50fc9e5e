"""chromseq.evaluation."""
