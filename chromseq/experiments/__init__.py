"""Published experiments reproduced with the library: ``tfbs`` (DeepBind / DeMo TF binding, ``chromseq tfbs``)."""
