"""CLI command: ``chromseq export``."""

from __future__ import annotations

import click


@click.command("export")
@click.option("--run", "run_dir", required=True, type=click.Path(file_okay=False), help="Run directory.")
@click.option("--format", "fmt", required=True, type=click.Choice(["savedmodel", "onnx"], case_sensitive=False),
              help="savedmodel: a TensorFlow SavedModel folder; onnx: one .onnx file (needs chromseq[onnx]).")
@click.option("--out", required=True, type=click.Path(), help="SavedModel folder, or the .onnx file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing export at --out.")
@click.option("--rc-average", is_flag=True,
              help="Build in the mean of each sequence's and its reverse complement's probabilities.")
def export_command(run_dir, fmt, out, overwrite, rc_average) -> None:
    """Export a run's model for use without chromseq: input 'sequence' float32 (N, L, 4) one-hot
    in the run's alphabet, output 'probabilities' float32 (N, K).

    The alphabet, sequence length, feature names and chromseq version go with it (SavedModel:
    the 'metadata' signature and assets.extra/chromseq.json; ONNX: metadata_props). The export is
    reloaded and checked against chromseq's predictions (1e-5) before it is written.

    \b
    Examples:
      chromseq export --run runs/demo --format savedmodel --out exports/demo
      chromseq export --run runs/deepsea --format onnx --out deepsea.onnx --rc-average
    """
    from chromseq.interop.export import export_run

    result = export_run(run_dir, fmt, out, overwrite=overwrite, rc_average=rc_average)
    meta = result["metadata"]
    length = meta["input_length"] or "any"
    click.echo(f"wrote {result['path']} ({result['format']}): sequence (N, {length}, 4) in {meta['alphabet']} "
               f"order -> probabilities (N, {len(meta['feature_names'])}); matches chromseq to "
               f"{result['max_abs_diff']:.1e}")


COMMANDS = [export_command]
