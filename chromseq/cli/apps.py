"""CLI commands: ``chromseq predict`` and ``chromseq variant-effect``."""

from __future__ import annotations

import click


@click.command("predict")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--fasta", type=click.Path(dir_okay=False), help="Sequences (plain or gzipped FASTA).")
@click.option("--bed", type=click.Path(dir_okay=False), help="Regions (BED/narrowPeak); needs --genome.")
@click.option("--genome", type=click.Path(dir_okay=False), help="Genome FASTA for --bed (indexed with pyfaidx).")
@click.option("--data", type=click.Path(dir_okay=False), help="One-hot input: DeepSEA .mat, .h5/.hdf5 or .npz.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output .tsv or .h5.")
@click.option("--rc-average", is_flag=True, help="Average forward and reverse-complement predictions.")
@click.option("--features", "pattern", help="Only features whose names match this pattern (or indices 0,5,7).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
def predict(run_dir, fasta, bed, genome, data, out, rc_average, pattern, batch_size) -> None:
    """Predict every feature for FASTA records, BED regions or one-hot sequences.

    Each sequence is centered in a window of the model's length: longer ones are cropped around
    their middle, shorter ones padded with N (the 'window' column says which). BED regions take the
    window centered on the region's middle from the genome (N past a contig end).

    \b
    Examples:
      chromseq predict --run runs/demo --fasta seqs.fa --out preds.tsv
      chromseq predict --run runs/demo --bed peaks.bed --genome hg19.fa --out preds.h5 --rc-average
      chromseq predict --run runs/deepsea --data ../shared/data/deepsea/danq_example.h5 --out example.tsv
    """
    from chromseq.apps.predict import predict_run

    if len([x for x in (fasta, bed, data) if x]) != 1:
        raise click.UsageError("give exactly one of --fasta, --bed (with --genome) or --data")
    if bed and not genome:
        raise click.UsageError("--bed needs --genome")
    preds, line = predict_run(run_dir, out, fasta=fasta, bed=bed, genome=genome, data=data, rc_average=rc_average,
                              pattern=pattern, batch_size=batch_size)
    for problem in preds.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(line)


@click.command("variant-effect")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--vcf", required=True, type=click.Path(dir_okay=False), help="VCF v4.x, plain or gzipped.")
@click.option("--genome", required=True, type=click.Path(dir_okay=False), help="Reference genome FASTA.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output .tsv (long) or .h5 (all).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(0),
              help="TSV: the N features with the largest |diff| per variant (0 = all).")
@click.option("--features", "pattern", help="Only features matching this name pattern (or indices).")
@click.option("--use-genome-ref", is_flag=True, help="Score variants whose REF disagrees with the genome using the genome's base.")
@click.option("--plot-variant", "plot_ids", multiple=True,
              help="Draw the feature profile and ISM for this variant (ID or chrom:pos:ref>alt).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
def variant_effect(run_dir, vcf, genome, out, top, pattern, use_genome_ref, plot_ids, batch_size) -> None:
    """Score SNVs by how they change each predicted feature.

    Each variant sits at 0-based index L//2 of a window of the model's length L; ref and alt
    windows are predicted on both strands and averaged. Scores: diff = P(alt) - P(ref),
    abs_diff, logit_diff. Indels are skipped and multi-allelic records split (counted); a REF that
    disagrees with the genome is reported and not scored unless --use-genome-ref.

    \b
    Example:
      chromseq variant-effect --run runs/deepsea --vcf snps.vcf.gz --genome hg19.fa --out effects.tsv
    """
    from chromseq.apps.variants import variant_effect as score

    _, lines, warnings = score(run_dir, vcf, genome, out, top=top, pattern=pattern, use_genome_ref=use_genome_ref,
                               plot_ids=plot_ids, batch_size=batch_size)
    for warning in warnings:
        click.echo(warning, err=True)
    for line in lines:
        click.echo(line)


COMMANDS: list = [predict, variant_effect]
