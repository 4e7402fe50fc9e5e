"""CLI commands: ``chromseq bench ...`` (device, train, predict)."""

from __future__ import annotations

import click


@click.group("bench")
def bench_group() -> None:
    """Benchmarks: devices, training and inference throughput, memory.

    \b
    Examples:
      chromseq bench device
      chromseq bench train --model deepsea
    """


COMMANDS: list = [bench_group]
