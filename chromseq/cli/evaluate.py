"""CLI commands: ``chromseq eval``, ``chromseq plot-features``, ``chromseq report``."""

from __future__ import annotations

import click


@click.command("eval")
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="Run directory.")
@click.option("--data", required=True, type=click.Path(dir_okay=False),
              help="Labelled data: DeepSEA .mat (v7.3 or v5), .h5/.hdf5 or .npz.")
@click.option("--annotations", type=click.Path(dir_okay=False),
              help="Feature table (.xlsx, .xls, .tsv/.csv or cell|assay|treatment names); default: the run's.")
@click.option("--published", type=click.Path(dir_okay=False),
              help="Published per-feature AUCs (DanQ's aucs.txt layout) shown side by side for 919 features.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default <run>/eval/<data>).")
@click.option("--rc-average", is_flag=True, help="Average forward and reverse-complement predictions.")
@click.option("--min-positives", default=10, show_default=True, type=click.IntRange(1),
              help="Features with fewer positives are reported as NA.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
@click.option("--max-samples", type=click.IntRange(1), help="Evaluate only the first N samples.")
def eval_command(run_dir, data, annotations, published, out_dir, rc_average, min_positives, batch_size,
                 max_samples) -> None:
    """Per-feature AUROC, AUPRC, F1 (at 0.5 and best) joined with cell type, element and treatment.

    Writes performance.tsv, summary.json (median/mean per class, as DeepSEA reports) and
    predictions.npz.

    \b
    Examples:
      chromseq eval --run runs/demo --data data/synth/test.mat
      chromseq eval --run runs/deepsea --data test.mat --rc-average \\
          --published ../shared/data/deepsea/danq_aucs.txt
    """
    from chromseq.evaluation.evaluate import evaluate, format_summary

    summary = evaluate(run_dir, data, annotations=annotations, out_dir=out_dir, rc_average=rc_average,
                       min_positives=min_positives, published=published, batch_size=batch_size,
                       max_samples=max_samples)
    click.echo(format_summary(summary))
    click.echo(f"wrote {summary['out_dir']}/performance.tsv, summary.json, predictions.npz")


@click.command("plot-features")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--data", type=click.Path(dir_okay=False),
              help="Evaluate this file first (default: use the run's latest evaluation, else its validation file).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default <run>/plots).")
@click.option("--feature", "features", multiple=True, help="Feature index or name pattern for the ROC/PR curves.")
@click.option("--max-rows", default=1000, show_default=True, type=click.IntRange(10),
              help="Samples drawn in the feature maps (a random subset of larger sets).")
def plot_features(run_dir, data, out_dir, features, max_rows) -> None:
    """Feature-map PNGs: input barcodes, label / predicted / difference maps, their evolution over
    epochs, ROC and PR curves, AUROC per class and training curves.

    \b
    Example:
      chromseq plot-features --run runs/demo
      chromseq plot-features --run runs/demo --feature CTCF --feature 3
    """
    from chromseq.evaluation.figures import plot_features as draw

    done = draw(run_dir, data=data, out_dir=out_dir, features=features, max_rows=max_rows)
    if done.evaluated:
        click.echo(f"no evaluation yet: evaluated {done.evaluated}")
    for path in done.files:
        click.echo(f"wrote {path}")


@click.command("report")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="HTML file (default <run>/report.html).")
def report(run_dir, out_file) -> None:
    """One static HTML page: config, summary metrics, a sortable/filterable per-feature table, figures.

    \b
    Example:
      chromseq report --run runs/demo && xdg-open runs/demo/report.html
    """
    from chromseq.evaluation.report import write_report

    path = write_report(run_dir, out_file)
    click.echo(f"wrote {path}")


COMMANDS: list = [eval_command, plot_features, report]
