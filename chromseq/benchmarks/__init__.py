"""Benchmarks, apart from the library core: ``measure`` runs one measurement in a fresh process,
``speed`` assembles them into the figures ``chromseq bench`` prints and ``docs/benchmarks.md`` logs."""
