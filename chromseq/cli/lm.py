"""CLI commands: ``chromseq lm train|eval|sweep|sample`` and ``chromseq data genome``."""

from __future__ import annotations

import click

from chromseq.cli.data import data_group


@click.group("lm")
def lm_group() -> None:
    """Genome language models: next-nucleotide prediction with perplexity.

    \b
    Example:
      chromseq data genome --kind repeat --length 30000 --out data/repeat.fa
      chromseq lm train --fasta data/repeat.fa --config configs/lm.yaml --run-dir runs/lm_repeat
      chromseq lm eval --run runs/lm_repeat
    """


@lm_group.command("train")
@click.option("--fasta", required=True, type=click.Path(dir_okay=False), help="Genome (FASTA, gz, or plain sequence).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="LM config (configs/lm.yaml).")
@click.option("--run-dir", default="runs/lm", show_default=True, type=click.Path(file_okay=False))
@click.option("--resume", is_flag=True)
@click.option("--overwrite", is_flag=True)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="e.g. --set model.cell=lstm")
def lm_train(fasta, config_path, run_dir, resume, overwrite, overrides) -> None:
    """Train a next-nucleotide RNN on the training region (the first 80 % of each record)."""
    from chromseq.lm.train import train_lm

    out = train_lm(fasta, config_path, run_dir, resume=resume, overwrite=overwrite, overrides=overrides)
    click.echo(f"run directory: {out} (next: chromseq lm eval --run {out})")


@lm_group.command("eval")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--fasta", type=click.Path(dir_okay=False), help="Genome (default: the one trained on).")
@click.option("--max-order", default=12, show_default=True, type=click.IntRange(0, 14))
def lm_eval(run_dir, fasta, max_order) -> None:
    """Held-out perplexity and bits per base, with order-k Markov perplexities beside them."""
    from chromseq.lm.train import evaluate_lm

    m = evaluate_lm(run_dir, fasta, markov_orders=range(max_order + 1))
    click.echo(f"{m['genome']}: test region {m['test_bases']} bp (train {m['train_bases']}, valid {m['valid_bases']}; "
               f"{m['n_or_iupac']} N/IUPAC bases masked)")
    click.echo(f"model perplexity {m['perplexity']:.4f} ({m['bits_per_base']:.4f} bits/base)")
    click.echo("Markov: " + "  ".join(f"k={k}: {v:.3f}" for k, v in m["markov_perplexity"].items()))
    click.echo(f"best Markov order {m['best_markov_order']}: {m['best_markov_perplexity']:.4f} -> model "
               f"{'beats' if m['beats_best_markov'] else 'does not beat'} it; wrote {run_dir}/metrics.json")


@lm_group.command("sweep")
@click.option("--fasta", required=True, type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", default="runs/lm_sweep", show_default=True, type=click.Path(file_okay=False))
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(1))
@click.option("--minutes", type=float, help="Time budget per grid point (checked after every step).")
@click.option("--cell", "cells", multiple=True, help="Restrict the grid (repeatable); default gru and lstm.")
@click.option("--seq-len", "seq_lens", multiple=True, type=int, help="Default 50, 100, 500, 1000.")
@click.option("--layers", "layer_counts", multiple=True, type=int, help="Default 2, 3.")
@click.option("--lr", "lrs", multiple=True, type=float, help="Default 1e-4, 8e-4.")
@click.option("--units", default=128, show_default=True, type=click.IntRange(1))
def lm_sweep(fasta, out_dir, epochs, minutes, cells, seq_lens, layer_counts, lrs, units) -> None:
    """The published grid: cell x learning rate {1e-4, 8e-4} x length {50, 100, 500, 1000} x layers {2, 3}."""
    from chromseq.lm.sweep import PUBLISHED_GRID, run_sweep

    grid = {"cell": list(cells) or PUBLISHED_GRID["cell"], "learning_rate": list(lrs) or PUBLISHED_GRID["learning_rate"],
            "seq_len": list(seq_lens) or PUBLISHED_GRID["seq_len"], "layers": list(layer_counts) or PUBLISHED_GRID["layers"]}
    rows = run_sweep(fasta, out_dir, grid=grid, epochs=epochs, minutes=minutes, units=units)
    best = min(rows, key=lambda r: r["perplexity"])
    click.echo(f"{len(rows)} runs; best {best}; wrote {out_dir}/sweep.tsv, sweep.png")


@lm_group.command("sample")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--length", default=200, show_default=True, type=click.IntRange(1))
@click.option("--temperature", default=1.0, show_default=True, type=float)
@click.option("--prime", default="", help="Start from this sequence.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--greedy", is_flag=True, help="Always take the most likely base (ignores --temperature).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: only when stderr is a terminal).")
def lm_sample(run_dir, length, temperature, prime, seed, greedy, progress) -> None:
    """Generate sequence from a trained model (FASTA on stdout), compiled, with the RNN state carried.

    \b
    Example:
      chromseq lm sample --run runs/lm_repeat --length 10000 --prime AGCTTGAGGC --temperature 0.8
    """
    from chromseq.lm.train import sample_lm

    seq = sample_lm(run_dir, length, temperature=temperature, seed=seed, prime=prime, greedy=greedy,
                    progress=progress)
    click.echo(f">sample {'greedy' if greedy else f'temperature={temperature}'} seed={seed}")
    for i in range(0, len(seq), 60):
        click.echo(seq[i : i + 60])


@data_group.command("genome")
@click.option("--kind", required=True, type=click.Choice(["repeat", "random"]))
@click.option("--length", default=30000, show_default=True, type=click.IntRange(1))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--seed", default=0, show_default=True, type=int)
def genome(kind, length, out, seed) -> None:
    """Write a synthetic genome: the AGCTTGAGGC repeat or a uniform random sequence (Zhang & Kamath)."""
    from chromseq.lm.genomes import write_synthetic_genome

    write_synthetic_genome(kind, length, out, seed)
    click.echo(f"wrote {out} ({length} bp)")


COMMANDS: list = [lm_group]
