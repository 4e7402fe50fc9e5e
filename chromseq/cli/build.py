"""CLI command: ``chromseq data build``."""

from __future__ import annotations

import click

from chromseq.cli.data import data_group


@data_group.command("build")
@click.option("--genome", required=True, type=click.Path(dir_okay=False), help="Genome FASTA (plain, bgzip or gzip).")
@click.option("--features", required=True, type=click.Path(),
              help="Directory of BED/narrowPeak files (one per feature) or a sheet (file, cell_type, element, treatment).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--bin", "bin_size", default=200, show_default=True, type=click.IntRange(1))
@click.option("--window", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--overlap", default=0.5, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Fraction of a bin a peak must cover for a positive label.")
@click.option("--holdout-valid", default="chr7", show_default=True,
              help="Comma-separated contigs or CONTIG:START-END regions for validation.")
@click.option("--holdout-test", default="chr8,chr9", show_default=True,
              help="Comma-separated contigs or regions for testing (DeepSEA: chr8, chr9).")
@click.option("--negatives", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Fraction of all-negative bins to keep as well.")
@click.option("--max-n", default=0.1, show_default=True, type=click.FloatRange(0, 1),
              help="Skip windows with a larger fraction of N.")
@click.option("--no-rc", is_flag=True, help="Do not add reverse complements.")
@click.option("--seed", default=0, show_default=True, type=int)
def build(genome, features, out_dir, bin_size, window, overlap, holdout_valid, holdout_test, negatives, max_n,
          no_rc, seed) -> None:
    """Make a DeepSEA-layout dataset (train.mat v7.3, valid/test.mat) from a genome and peak files.

    A 200-bp bin is positive for a feature when at least half of it lies in that feature's peaks;
    samples are the 1000-bp windows centered on bins with at least one positive.

    \b
    Examples:
      chromseq data build --genome hg19.fa --features peaks/ --out data/mine
      chromseq data build --genome ecoli.fna.gz --features feats/ --out data/ecoli \\
          --holdout-valid NC_000913.3:3500000-3900000 --holdout-test NC_000913.3:3900000-4641652
    """
    from chromseq.data.build import build_dataset
    from chromseq.outputs import check_writable

    check_writable(out_dir, folder=True)
    split = lambda s: [p for p in s.split(",") if p.strip()]  # noqa: E731
    m = build_dataset(genome, features, out_dir, bin_size=bin_size, window=window, overlap=overlap,
                      holdout_valid=split(holdout_valid), holdout_test=split(holdout_test), negatives=negatives,
                      max_n=max_n, reverse_complement=not no_rc, seed=seed)
    click.echo(f"samples: {', '.join(f'{k} {v}' for k, v in m['samples'].items())} "
               f"({len(m['features'])} features); skipped: {m['skipped']}")
    if m["missing_contigs"]:
        click.echo(f"peaks on contigs missing from the genome (skipped): {m['missing_contigs']}", err=True)
    for p in m["problems"][:20]:
        click.echo(f"reported: {p}", err=True)
    click.echo(f"wrote {out_dir}/train.mat, valid.mat, test.mat, features.tsv, manifest.json")


COMMANDS: list = []
