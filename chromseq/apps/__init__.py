"""chromseq.apps."""
