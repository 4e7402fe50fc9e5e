"""chromseq.interpret."""
