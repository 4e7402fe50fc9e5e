"""CLI commands: ``chromseq data ...`` (synth, inspect; other modules add build, genome, convert)."""

from __future__ import annotations

import json

import click


@click.group("data")
def data_group() -> None:
    """Make, inspect and convert datasets.

    \b
    Examples:
      chromseq data synth --out data/synth
      chromseq data inspect data/synth/train.mat
    """


@data_group.command("synth")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--train", "n_train", default=20000, show_default=True, type=click.IntRange(2), help="Training samples.")
@click.option("--valid", "n_valid", default=2000, show_default=True, type=click.IntRange(2), help="Validation samples.")
@click.option("--test", "n_test", default=2000, show_default=True, type=click.IntRange(2), help="Test samples.")
@click.option("--length", default=1000, show_default=True, type=click.IntRange(50), help="Sequence length (bp).")
@click.option("--features", "n_features", default=919, show_default=True, type=click.IntRange(1),
              help="Number of features (split DNase/TF/histone as 125/690/104 of 919).")
@click.option("--motifs", "motif_file", type=click.Path(exists=True, dir_okay=False),
              help="Plant motifs from this MEME or JASPAR/TRANSFAC file instead of the built-in set.")
@click.option("--n-motifs", default=24, show_default=True, type=click.IntRange(1),
              help="With --motifs: how many motifs (width 6-20) to draw from the file.")
@click.option("--seed", default=0, show_default=True, type=int)
def synth(out_dir, n_train, n_valid, n_test, length, n_features, motif_file, n_motifs, seed) -> None:
    """Write a synthetic bundle in the exact DeepSEA layout, with planted motifs.

    train.mat (MATLAB v7.3/HDF5, samples last), valid.mat and test.mat (MATLAB v5),
    features.tsv/.xlsx (cell type, element, treatment), truth.json (motifs, which
    features they drive) and planted_<split>.npz (where each motif was planted).

    \b
    Example:
      chromseq data synth --out data/synth
      chromseq data synth --out data/jaspar --motifs ../shared/data/motifs/jaspar2024_core.transfac.gz
    """
    from chromseq.data.synth import motifs_from_file, write_bundle
    from chromseq.outputs import check_writable

    check_writable(out_dir, folder=True)
    motifs = motifs_from_file(motif_file, n_motifs, seed) if motif_file else None
    summary = write_bundle(out_dir, n_train=n_train, n_valid=n_valid, n_test=n_test, length=length,
                           n_features=n_features, motifs=motifs, seed=seed)
    for split, info in summary["splits"].items():
        click.echo(f"{split}: {info['samples']} samples, prevalence {info['min_prevalence']:.3f}-"
                   f"{info['max_prevalence']:.3f} (mean {info['mean_prevalence']:.3f})")
    click.echo(f"wrote {out_dir}/train.mat, valid.mat, test.mat, features.tsv, truth.json")


@data_group.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def inspect(file, as_json) -> None:
    """Show container, keys, shapes, orientation, alphabet and label counts of a data file.

    Streams the file block by block (never loads train.mat whole).

    \b
    Example:
      chromseq data inspect data/synth/train.mat
    """
    from chromseq.data.inspect import inspect_file

    info = inspect_file(file)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        click.echo(f"{key:>14}: {value}")


COMMANDS: list = [data_group]


@data_group.command("convert")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output store (.h5).")
@click.option("--no-pack", is_flag=True, help="Store one-hot and labels as bytes instead of packed bits (8x larger).")
@click.option("--chunk-samples", default=256, show_default=True, type=click.IntRange(1),
              help="Samples per HDF5 chunk (the smallest block that reads at full speed).")
@click.option("--compression", type=click.Choice(["none", "lzf", "gzip"]), default="none", show_default=True)
@click.option("--max-samples", type=click.IntRange(1), help="Convert only the first N samples.")
def convert(source, out, no_pack, chunk_samples, compression, max_samples) -> None:
    """Convert a DeepSEA train.mat (samples last) into a sample-major, chunked, bit-packed store.

    The store reads any block of samples at full speed, so training can shuffle with small
    blocks (e.g. --set data.block_size=256 --set data.shuffle_buffer_blocks=64); train, eval
    and predict read it like the .mat file. features.tsv is copied beside it.

    \b
    Example:
      chromseq data convert deepsea_train/train.mat --out deepsea_train/train.h5
    """
    from chromseq.data.convert import convert_dataset
    from chromseq.outputs import check_writable

    check_writable(out)
    summary = convert_dataset(source, out, pack=not no_pack, chunk_samples=chunk_samples,
                              compression=None if compression == "none" else compression, max_samples=max_samples)
    click.echo(json.dumps(summary, indent=2))
