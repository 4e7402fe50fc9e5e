"""Genome language models: next-nucleotide RNNs with perplexity, Markov yardsticks, sweeps, sampling."""

from chromseq.lm.markov import markov_perplexity, markov_table
from chromseq.lm.train import evaluate_lm, sample_lm, train_lm

__all__ = ["evaluate_lm", "markov_perplexity", "markov_table", "sample_lm", "train_lm"]
