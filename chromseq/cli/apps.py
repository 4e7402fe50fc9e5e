"""CLI commands: ``chromseq predict`` and ``chromseq variant-effect``."""

from __future__ import annotations

import click


@click.command("predict")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--fasta", type=click.Path(dir_okay=False), help="Sequences (plain or gzipped FASTA).")
@click.option("--bed", type=click.Path(dir_okay=False), help="Regions (BED/narrowPeak); needs --genome.")
@click.option("--genome", type=click.Path(dir_okay=False), help="Genome FASTA for --bed (indexed with pyfaidx).")
@click.option("--data", type=click.Path(dir_okay=False), help="One-hot input: DeepSEA .mat, .h5/.hdf5 or .npz.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output: .tsv, .csv, .h5; with --bed also .bed, .bedgraph, .bw (format from the extension).")
@click.option("--format", "fmt", type=click.Choice(["tsv", "csv", "h5", "bed", "bedgraph", "bigwig"],
                                                   case_sensitive=False),
              help="Output format, whatever the extension of --out.")
@click.option("--tile", type=click.IntRange(1), metavar="STEP",
              help="--bed: cut each region into STEP-bp bins, one prediction per bin (window centered on the bin).")
@click.option("--rc-average", is_flag=True, help="Average forward and reverse-complement predictions.")
@click.option("--features", "pattern", help="Only features whose names match this pattern (or indices 0,5,7).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
def predict(run_dir, fasta, bed, genome, data, out, fmt, tile, rc_average, pattern, batch_size) -> None:
    """Predict every feature for FASTA records, BED regions or one-hot sequences.

    Each sequence is centered in a window of the model's length: longer ones are cropped around
    their middle, shorter ones padded with N (the 'window' column says which). BED regions take the
    window centered on the region's middle from the genome (N past a contig end); with --tile STEP
    each region is cut into STEP-bp bins and each bin gets the window centered on it (DeepSEA:
    --tile 200 with its 1000-bp window predicts every bin from the 400 bp around it on each side).

    Genome-browser outputs (--bed only): .bed holds every selected feature as a column; .bedgraph
    and .bw (bigWig) hold one feature per file: --out itself for one selected feature, else
    <stem>.<index>_<name>.bw beside it (at most 50: select with --features). Feature columns are
    named <index>:<name> when selected names repeat.

    \b
    Examples:
      chromseq predict --run runs/demo --fasta seqs.fa --out preds.tsv
      chromseq predict --run runs/demo --bed peaks.bed --genome hg19.fa --out preds.h5 --rc-average
      chromseq predict --run runs/deepsea --data ../shared/data/deepsea/danq_example.h5 --out example.tsv
      chromseq predict --run runs/deepsea --bed loci.bed --genome hg19.fa --tile 200 \\
          --features 'GM12878\\|CTCF' --out ctcf.bw
    """
    from chromseq.apps.predict import predict_run

    if len([x for x in (fasta, bed, data) if x]) != 1:
        raise click.UsageError("give exactly one of --fasta, --bed (with --genome) or --data")
    if bed and not genome:
        raise click.UsageError("--bed needs --genome")
    if tile and not bed:
        raise click.UsageError("--tile needs --bed (with --genome)")
    preds, line = predict_run(run_dir, out, fasta=fasta, bed=bed, genome=genome, data=data, rc_average=rc_average,
                              pattern=pattern, batch_size=batch_size, fmt=fmt, tile=tile)
    for problem in preds.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(line)


@click.command("variant-effect")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--vcf", required=True, type=click.Path(dir_okay=False), help="VCF v4.x, plain or gzipped.")
@click.option("--genome", required=True, type=click.Path(dir_okay=False), help="Reference genome FASTA.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output .tsv (long), .h5 (all) or .vcf / .vcf.gz (the input VCF with CHROMSEQ_* INFO fields).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(0),
              help="TSV and VCF: the N features with the largest |diff| per variant (0 = all).")
@click.option("--features", "pattern", help="Only features matching this name pattern (or indices).")
@click.option("--use-genome-ref", is_flag=True, help="Score variants whose REF disagrees with the genome using the genome's base.")
@click.option("--plot-variant", "plot_ids", multiple=True,
              help="Draw the feature profile and ISM for this variant (ID or chrom:pos:ref>alt).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
def variant_effect(run_dir, vcf, genome, out, top, pattern, use_genome_ref, plot_ids, batch_size) -> None:
    """Score SNVs and indels by how they change each predicted feature.

    Ref and alt windows have the model's length L, each centered on its own allele (the middle
    base of REF / ALT at 0-based index L//2; an SNV at L//2): an insertion pushes bases out on both
    sides, a deletion pulls genome bases in on both sides. Both are predicted on both strands and
    averaged. Scores: diff = P(alt) - P(ref), abs_diff, logit_diff. Multi-allelic records are split
    (one row per ALT); symbolic alleles are skipped (counted); a REF that disagrees with the genome
    is reported and not scored unless --use-genome-ref.

    --out x.vcf / x.vcf.gz writes the input VCF with INFO CHROMSEQ_MAXABS (max |diff|),
    CHROMSEQ_TOP (the --top features as name:diff joined by &; one value per ALT) and
    CHROMSEQ_REFMATCH (1/0), plus the ##INFO and ##chromseq header lines.

    \b
    Examples:
      chromseq variant-effect --run runs/deepsea --vcf snps.vcf.gz --genome hg19.fa --out effects.tsv
      chromseq variant-effect --run runs/deepsea --vcf snps.vcf.gz --genome hg19.fa --out annotated.vcf.gz
    """
    from chromseq.apps.variants import variant_effect as score

    _, lines, warnings = score(run_dir, vcf, genome, out, top=top, pattern=pattern, use_genome_ref=use_genome_ref,
                               plot_ids=plot_ids, batch_size=batch_size)
    for warning in warnings:
        click.echo(warning, err=True)
    for line in lines:
        click.echo(line)


COMMANDS: list = [predict, variant_effect]
