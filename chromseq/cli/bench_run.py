"""CLI commands: ``chromseq bench train`` and ``chromseq bench predict`` (``bench device`` is in train.py)."""

from __future__ import annotations

import click

from chromseq.benchmarks.speed import MODELS
from chromseq.cli.bench import bench_group


@bench_group.command("train")
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False), help="A train.mat (e.g. synthetic).")
@click.option("--model", "models", multiple=True, default=MODELS, show_default=True)
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1))
@click.option("--batches", default=8, show_default=True, type=click.IntRange(1))
@click.option("--precision", type=click.Choice(["float32", "bf16"]), default="float32", show_default=True)
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True,
              help="sgd: SGD with momentum 0.9, DeepSEA's published recipe (configs/deepsea.yaml).")
@click.option("--store", type=click.Path(exists=True, dir_okay=False),
              help="The same data converted by `chromseq data convert`: measured beside the .mat.")
@click.option("--repeats", default=1, show_default=True, type=click.IntRange(1),
              help="Measure each figure this many times (disk and memory alternating) and report the median "
                   "and the range: single timings on a shared machine vary by 10-20 %.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Also write the results here.")
def bench_train(data, models, batch_size, batches, precision, optimizer, store, repeats, json_out) -> None:
    """Training samples/s from the file on disk vs from arrays in memory, the loader alone, peak RSS.

    \b
    Example:
      chromseq data synth --out data/bench --train 20000 --valid 100 --test 100
      chromseq bench train --data data/bench/train.mat --model deepsea --model gru_stack
    """
    from chromseq.benchmarks.measure import machine, run_isolated
    from chromseq.benchmarks.speed import loader_speed, training_speed

    results = {"machine": machine(), "loader": [], "matmul": run_isolated(["matmul"]), "train": []}
    click.echo(f"machine: {results['machine']}")
    peak = results["matmul"]["gflops"]
    click.echo(f"matmul (float32, 2048^2, best of 5): {peak:.0f} GFLOP/s")
    for name, path in (("train.mat", data), ("store", store)):
        for block in (4096, 256):
            if path:
                r = {"file": name, **loader_speed(path, block)}
                results["loader"].append(r)
                click.echo(f"loader alone, {name}, blocks of {block}: {r['samples_per_s']:.0f} samples/s, "
                           f"peak RSS {r['peak_rss_mb']:.0f} MB")
    click.echo(f"{'model':<14} {'disk/s':>8} {'memory/s':>9} {'ratio':>6} {'GFLOP/s':>8} {'of matmul':>9} {'RSS disk MB':>12} "
               f"{'RSS mem MB':>11}" + (f" {'store/s':>8}" if store else ""))
    for m in models:
        row = training_speed(m, data, store=store, batch_size=batch_size, batches=batches, precision=precision,
                             optimizer=optimizer, repeats=repeats)
        results["train"].append(row)
        click.echo(_train_line(row, peak))
        if repeats > 1:
            click.echo("  " + "; ".join(f"{k} {_range(row[k])}" for k in ("disk", "memory", "store") if k in row))
    if json_out:
        from chromseq.runs import write_json

        write_json(json_out, results)


def _range(run: dict) -> str:
    rates = sorted(run["runs_samples_per_s"])
    return f"{rates[0]:.1f}-{rates[-1]:.1f}"


def _train_line(row: dict, peak: float) -> str:
    disk, mem, gflops = row["disk"], row["memory"], row["gflops"]
    rate = f"{gflops:>8.0f} {gflops / peak:>9.0%}" if gflops else f"{'-':>8} {'-':>9}"
    store = f" {row['store']['samples_per_s']:>8.1f}" if "store" in row else ""
    return (f"{row['model']:<14} {disk['samples_per_s']:>8.1f} {mem['samples_per_s']:>9.1f} "
            f"{disk['samples_per_s'] / mem['samples_per_s']:>6.2f} {rate} {disk['peak_rss_mb']:>12.0f} "
            f"{mem['peak_rss_mb']:>11.0f}{store}")


@bench_group.command("predict")
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--model", "models", multiple=True, default=MODELS, show_default=True)
@click.option("--samples", default=1024, show_default=True, type=click.IntRange(1))
@click.option("--json", "json_out", type=click.Path(dir_okay=False))
def bench_predict(data, models, samples, json_out) -> None:
    """Inference samples/s: chromseq's predict path vs a bare compiled call vs model.predict.

    \b
    Example:
      chromseq bench predict --data data/bench/train.mat --model deepsea
    """
    from chromseq.benchmarks.speed import inference_speed

    rows = []
    click.echo(f"{'model':<14} {'chromseq/s':>11} {'bare/s':>8} {'predict()/s':>12} {'chromseq/bare':>14}")
    for m in models:
        r = inference_speed(m, data, samples=samples)
        s = r["samples_per_s"]
        rows.append(r)
        click.echo(f"{m:<14} {s['chromseq']:>11.1f} {s['bare_call']:>8.1f} {s['model_predict']:>12.1f} "
                   f"{s['chromseq'] / s['bare_call']:>14.2f}")
    if json_out:
        from chromseq.runs import write_json

        write_json(json_out, rows)


COMMANDS: list = []
