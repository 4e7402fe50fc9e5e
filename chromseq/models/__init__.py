"""chromseq.models."""
