"""Evaluation: per-feature metrics, tables joined with annotations, the run report."""
