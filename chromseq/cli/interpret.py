"""CLI commands: ``chromseq interpret saliency|temporal|classopt|ism|filters``."""

from __future__ import annotations

import click

from chromseq.interpret.run_interpret import METHODS


@click.command("interpret")
@click.argument("method", type=click.Choice(METHODS))
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--data", type=click.Path(dir_okay=False), help="Sequences to explain (default: the run's validation file).")
@click.option("--feature", help="Feature index or name pattern (first match); default 0.")
@click.option("--samples", default=4, show_default=True, type=click.IntRange(1),
              help="How many sequences (positives of the feature when labelled).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default <run>/interpret/<method>).")
@click.option("--motif-db", type=click.Path(dir_okay=False),
              help="filters: motif database (MEME or JASPAR/TRANSFAC) to match the filters against.")
@click.option("--steps", default=1000, show_default=True, type=click.IntRange(1), help="classopt: optimization steps.")
@click.option("--threshold", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="filters: activation threshold as a fraction of each filter's maximum.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
def interpret(method, run_dir, data, feature, samples, out_dir, motif_db, steps, threshold, batch_size) -> None:
    """Explain a trained model: which bases matter and what patterns it learned.

    \b
    saliency  |dS/dX| x X per base (heatmap and letters scaled by importance)
    temporal  score of every prefix and suffix along the sequence (recurrent / pooling models)
    classopt  the input that maximizes the feature's score, as a logo (DeMo: 1000 RMSprop steps)
    ism       score change of every substitution at every position
    filters   first-layer filters as PWMs (MEME file, logos), matched to --motif-db
    \b
    Examples:
      chromseq interpret saliency --run runs/demo --feature CTCF
      chromseq interpret filters --run runs/demo --motif-db ../shared/data/motifs/jaspar2024_core.transfac.gz
    """
    from chromseq.interpret.run_interpret import interpret_run

    done = interpret_run(run_dir, method, data=data, feature=feature, samples=samples, out_dir=out_dir,
                         motif_db=motif_db, steps=steps, threshold=threshold, batch_size=batch_size)
    for line in done.lines:
        click.echo(line)


COMMANDS: list = [interpret]
