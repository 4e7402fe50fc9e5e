"""CLI commands: ``chromseq train`` and ``chromseq bench device``."""

from __future__ import annotations

import click

from chromseq.cli.bench import bench_group


@click.command("train")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="YAML config (see configs/).")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Run directory (default: runs/<name>).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run directory.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a config field, e.g. --set train.epochs=3 (repeatable).")
def train_command(config_path, run_dir, resume, overwrite, overrides) -> None:
    """Train a model from a YAML config into a run directory.

    Reports loss, perplexity, AUROC, AUPRC and F1 over the whole validation set each epoch,
    writes history.csv, TensorBoard logs, best/last checkpoints and model.keras.

    \b
    Examples:
      chromseq train --config configs/demo.yaml
      chromseq train --config configs/deepsea.yaml --set data.max_samples=100000 --set train.epochs=2
      chromseq train --config configs/demo.yaml --resume
    """
    if resume and overwrite:
        raise click.UsageError("--resume and --overwrite exclude each other")
    from chromseq.training import train

    out = train(config_path, run_dir, resume=resume, overwrite=overwrite, overrides=overrides)
    click.echo(f"run directory: {out}")


@bench_group.command("device")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1))
def bench_device(repeats) -> None:
    """A device speed check: a Conv2D (32 filters 7x7x3) over random 100x100x100x3, per device.

    \b
    Example:
      chromseq bench device
    """
    from chromseq.training.devices import benchmark_devices, describe_devices

    rows = benchmark_devices(repeats)
    click.echo(f"{'device':<40} {'best s':>8} {'median s':>9}")
    for r in rows:
        click.echo(f"{r['device']:<40} {r['seconds']:>8.4f} {r['median_seconds']:>9.4f}")
    fastest = min(rows, key=lambda r: r["seconds"])
    info = describe_devices()
    click.echo(f"fastest: {fastest['device']}; training uses {info['using']}"
               + ("" if info["gpus"] else " (no CUDA GPU visible)"))


COMMANDS: list = [train_command]
