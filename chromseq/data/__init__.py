"""chromseq.data."""
