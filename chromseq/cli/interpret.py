"""CLI commands: ``chromseq interpret saliency|temporal|classopt|ism|filters``."""

from __future__ import annotations

import click

from chromseq.interpret.run_interpret import METHODS


@click.command("interpret")
@click.argument("method", type=click.Choice(METHODS))
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--data", type=click.Path(dir_okay=False), help="Sequences to explain (default: the run's validation file).")
@click.option("--feature", help="Feature index or name pattern (first match); default 0.")
@click.option("--samples", type=click.IntRange(1),
              help="How many sequences (positives of the feature when labelled); default 4, modisco 1000.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default <run>/interpret/<method>).")
@click.option("--motif-db", type=click.Path(dir_okay=False),
              help="filters, classopt: motif database (MEME or JASPAR/TRANSFAC) to match against "
                   "(Tomtom p/E/q-values -> matches.tsv).")
@click.option("--taxon", help="Restrict --motif-db to one taxon by its own annotations (JASPAR TRANSFAC "
                              "'CC tax_group:'): vertebrates, plants, insects, fungi, nematodes, urochordates.")
@click.option("--steps", default=1000, show_default=True, type=click.IntRange(1), help="classopt: optimization steps.")
@click.option("--threshold", default=0.7, show_default=True, type=click.FloatRange(0, 1),
              help="filters: activation threshold as a fraction of each filter's maximum (0.7 matched more "
                   "planted motifs to JASPAR than 0.5 or 0.85).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
@click.option("--method", "attribution", default="deepshap", show_default=True,
              type=click.Choice(["grad_x_input", "integrated_gradients", "deepshap"]),
              help="attributions, modisco: the attribution method.")
@click.option("--shuffles", default=20, show_default=True, type=click.IntRange(1),
              help="deepshap: dinucleotide-shuffled references per sequence.")
@click.option("--ig-steps", default=50, show_default=True, type=click.IntRange(1),
              help="integrated_gradients: path intervals (trapezoid rule).")
def interpret(method, run_dir, data, feature, samples, out_dir, motif_db, taxon, steps, threshold,
              batch_size, attribution, shuffles, ig_steps) -> None:
    """Explain a trained model: which bases matter and what patterns it learned.

    \b
    saliency  |dS/dX| x X per base (heatmap and letters scaled by importance)
    temporal  score of every prefix and suffix along the sequence (recurrent / pooling models)
    classopt  the input that maximizes the feature's score, as a logo (DeMo: 1000 RMSprop steps)
    ism       score change of every substitution at every position
    filters   first-layer filters as PWMs (MEME file, logos), matched to --motif-db
    attributions  signed attributions (--method deepshap|integrated_gradients|grad_x_input)
    modisco   TF-MoDISco motifs from the attributions of many sequences, matched to --motif-db
    \b
    Examples:
      chromseq interpret saliency --run runs/demo --feature CTCF
      chromseq interpret filters --run runs/demo --motif-db ../shared/data/motifs/jaspar2024_core.transfac.gz
      chromseq interpret filters --run runs/demo --motif-db jaspar2024_core.transfac.gz --taxon vertebrates
      chromseq interpret attributions --run runs/demo --feature CTCF --method integrated_gradients
      chromseq interpret modisco --run runs/demo --feature CTCF --data data/synth/train.mat --motif-db DB
    """
    from chromseq.interpret.run_interpret import interpret_run

    done = interpret_run(run_dir, method, data=data, feature=feature, samples=samples, out_dir=out_dir,
                         motif_db=motif_db, taxon=taxon, steps=steps, threshold=threshold, batch_size=batch_size,
                         attribution=attribution, shuffles=shuffles, ig_steps=ig_steps)
    for line in done.lines:
        click.echo(line)


COMMANDS: list = [interpret]
