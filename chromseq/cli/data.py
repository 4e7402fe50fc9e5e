"""CLI commands: ``chromseq data ...`` (synth, inspect; other modules add build, genome, convert)."""

from __future__ import annotations

import click


@click.group("data")
def data_group() -> None:
    """Make, inspect and convert datasets.

    \b
    Examples:
      chromseq data synth --out data/synth
      chromseq data inspect data/synth/train.mat
    """


COMMANDS: list = [data_group]
