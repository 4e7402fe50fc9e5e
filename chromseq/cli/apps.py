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
    from chromseq.apps.predict import (
        RunModel,
        predict_bed,
        predict_fasta,
        predict_onehot,
        write_predictions,
    )
    from chromseq.outputs import check_writable

    given = [x for x in (fasta, bed, data) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --fasta, --bed (with --genome) or --data")
    if bed and not genome:
        raise click.UsageError("--bed needs --genome")
    check_writable(out)
    rm = RunModel.load(run_dir)
    if fasta:
        preds = predict_fasta(rm, fasta, rc_average=rc_average, batch_size=batch_size)
    elif bed:
        preds = predict_bed(rm, bed, genome, rc_average=rc_average, batch_size=batch_size)
    else:
        preds = predict_onehot(rm, data, rc_average=rc_average, batch_size=batch_size)
    columns = rm.select(pattern)
    write_predictions(out, preds, rm.feature_names, columns)
    for problem in preds.problems:
        click.echo(f"skipped: {problem}", err=True)
    notes = {}
    for note in preds.notes:
        key = note.split(" ")[0] if not note.startswith(("chr", "NC_")) else ("padded" if "padded" in note else "exact")
        notes[key] = notes.get(key, 0) + 1
    click.echo(f"{len(preds.names)} sequences x {len(columns)} features -> {out} "
               f"(windows of {rm.seq_len} bp: {', '.join(f'{v} {k}' for k, v in notes.items())}); "
               f"{len(preds.problems)} skipped")


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
    from pathlib import Path

    import numpy as np

    from chromseq.apps.predict import RunModel
    from chromseq.apps.variants import score_variants, write_variant_scores
    from chromseq.outputs import check_writable

    check_writable(out)
    rm = RunModel.load(run_dir)
    scored = score_variants(rm, vcf, genome, use_genome_ref=use_genome_ref, batch_size=batch_size)
    columns = rm.select(pattern)
    write_variant_scores(out, scored, rm.feature_names, columns, top=top)
    for problem in scored.report.problems[:50]:
        click.echo(f"reported: {problem}", err=True)
    s = scored.scores(len(rm.feature_names))
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(scored.report.skipped.items())) or "none"
    click.echo(f"{len(scored.variants)} SNVs scored -> {out}; skipped/split: {skipped}; "
               f"{len(scored.report.problems)} line(s) reported")
    if scored.variants:
        best = np.argsort(-s["abs_diff"][:, columns].max(1))[:10]
        click.echo("largest effects (max |diff| over features):")
        for i in best:
            j = columns[int(np.argmax(s["abs_diff"][i, columns]))]
            click.echo(f"  {scored.variants[i].label:<28} {rm.feature_names[j]:<40} diff {s['diff'][i, j]:+.4f}")
    if plot_ids:
        _plot_variants(rm, scored, s, genome, plot_ids, Path(out).with_suffix(""))


def _plot_variants(rm, scored, s, genome, plot_ids, stem) -> None:
    import numpy as np

    from chromseq.data.encoding import one_hot
    from chromseq.data.fasta import Genome
    from chromseq.interpret.ism import in_silico_mutagenesis
    from chromseq.plots.variants import plot_variant

    g = Genome(genome)
    flank = 20
    for wanted in plot_ids:
        hits = [i for i, v in enumerate(scored.variants) if wanted in (v.id, v.label)]
        if not hits:
            click.echo(f"--plot-variant {wanted}: no scored variant with that ID", err=True)
            continue
        i = hits[0]
        v = scored.variants[i]
        start = v.pos - 1 - rm.seq_len // 2
        window = g.fetch(g.resolve(v.chrom), start, start + rm.seq_len)
        feature = int(np.argmax(s["abs_diff"][i]))
        mid = rm.seq_len // 2
        ism = in_silico_mutagenesis(rm.model, one_hot([window], rm.alphabet, strict=False), feature,
                                    positions=range(mid - flank, mid + flank + 1), alphabet=rm.alphabet)[0]
        path = f"{stem}_{v.label.replace(':', '_').replace('>', '_')}.png"
        plot_variant(v.label, s["p_ref"][i], s["p_alt"][i], rm.feature_names, ism, window, rm.alphabet,
                     feature, path, flank)
        click.echo(f"wrote {path}")
    g.close()


COMMANDS: list = [predict, variant_effect]
