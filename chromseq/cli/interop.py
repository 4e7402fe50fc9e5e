"""CLI command: ``chromseq import deepsea|beluga|danq`` (published weights -> a run directory)."""

from __future__ import annotations

import click


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["deepsea", "beluga", "danq"]))
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run directory to create.")
@click.option("--names", type=click.Path(dir_okay=False),
              help="Feature names: 'cell|assay|treatment' list, one name a line, or an annotation table.")
@click.option("--seq-len", type=click.IntRange(1), help="Input length (default: the published 1000 / 2000 bp).")
@click.option("--true-bidirectional", is_flag=True,
              help="danq: read the second LSTM backward in time (the published model reads it forward).")
@click.option("--overwrite", is_flag=True, help="Replace the files of an existing run directory.")
def import_command(fmt, weights, out, names, seq_len, true_bidirectional, overwrite) -> None:
    """Turn published weights into a run directory that eval, predict, variant-effect and
    interpret use like a trained run. Inputs are one-hot A, G, C, T (recorded in dataset.json).

    \b
    FORMAT and the file it reads (never downloaded):
      deepsea  deepsea_cpu.pth (DeepSEA v0.9, Lua model as a PyTorch state dict) or Kipoi's
               deepsea_variant_effects.pth / deepsea_predict.pth (zenodo.org/record/1466993)
      beluga   deepsea.beluga.pth (ExPecto resources/; Kipoi DeepSEA/beluga, zenodo.org/record/3402406)
      danq     DanQ_bestmodel.hdf5 (cbcl.ics.uci.edu/public_data/DanQ/; Keras 0.2 / Theano)

    \b
    Examples:
      chromseq import deepsea deepsea_cpu.pth --out runs/deepsea_published --names predictor.names
      chromseq import beluga deepsea.beluga.pth --out runs/beluga --names predictor_names.txt
      chromseq import danq DanQ_bestmodel.hdf5 --out runs/danq_published --names predictor.names
      chromseq predict --run runs/deepsea_published --fasta seqs.fa --out preds.tsv
    """
    from chromseq.interop.importers import import_weights

    kwargs = {"names": names, "seq_len": seq_len, "overwrite": overwrite}
    if fmt == "danq":
        kwargs["seya_bidirectional"] = not true_bidirectional
    elif true_bidirectional:
        raise click.UsageError("--true-bidirectional applies to danq only")
    run = import_weights(fmt, weights, out, **kwargs)
    from chromseq.runs import Run

    r = Run.open(run)
    click.echo(f"wrote {run}: {fmt} model, {r.info.seq_len} bp (alphabet {r.alphabet}) -> "
               f"{r.info.n_features} features{'' if names else ' (unnamed: give --names)'}")


COMMANDS = [import_command]
