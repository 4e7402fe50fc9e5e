"""``evaluate``: predict a dataset with a trained run and score every feature."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chromseq import runs
from chromseq.errors import ChromseqError
from chromseq.evaluation.columns import ColumnStore
from chromseq.evaluation.metrics import metrics_by_column, summarize
from chromseq.outputs import atomic_output


def predict_into(store: ColumnStore, model, ds: runs.FittedData, *, alphabet: str, rc_average: bool = False,
                 batch_size: int = 256, block_size: int = 16384, verbose: bool = True) -> None:
    """Predict a whole labelled data file block by block into ``store`` (scores and labels)."""
    from chromseq.inference import predict_batches

    blocks = ds.iter_blocks(block_size)
    for _, x, y in tqdm(blocks, total=-(-ds.n_samples // block_size), disable=not verbose, desc="predict",
                        unit="block"):
        store.add(predict_batches(model, x, batch_size=batch_size, rc_average=rc_average, alphabet=alphabet), y)


def evaluate(
    run_dir: str | os.PathLike | runs.Run,
    data: str | os.PathLike,
    *,
    annotations: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    rc_average: bool = False,
    min_positives: int = 10,
    published: str | os.PathLike | None = None,
    batch_size: int = 256,
    max_samples: int | None = None,
    verbose: bool = True,
) -> dict:
    """Score every feature of ``data`` with the model of ``run_dir``.

    Writes ``performance.tsv``, ``summary.json`` and ``predictions.npz`` into ``out_dir``
    (default ``<run>/eval/<data name>``) and returns the summary.
    """
    from chromseq.data.annotations import FeatureTable
    from chromseq.evaluation.tables import performance_rows, read_published_aucs, write_table
    from chromseq.outputs import check_writable

    run = run_dir if isinstance(run_dir, runs.Run) else runs.Run.open(run_dir)
    check_writable(out_dir or run.eval_root, folder=True)
    model = run.model  # refuses a model whose input disagrees with dataset.json
    ds = run.fit_data(data, max_samples=max_samples)
    if not ds.has_labels:
        raise ChromseqError(f"{data}: no labels to evaluate against (use `chromseq predict` for unlabelled data)")
    k_model = run.n_features
    if ds.n_features != k_model:
        raise ChromseqError(f"{data}: {ds.n_features} features, but the model in {run.path} predicts {k_model}")
    if annotations:
        table = FeatureTable.read(annotations, n_features=ds.total_features)
        if ds.features is not None:
            table = table.subset(ds.features)
    else:
        table = run.feature_table(k_model)
    pub = read_published_aucs(published, k_model) if published else None
    where = runs.Evaluation(Path(out_dir)) if out_dir else run.evaluation_for(data)
    n = ds.n_samples
    # scores and labels wait on disk feature by feature: memory does not grow with the test set
    with ColumnStore(where.dir, n, k_model) as store:
        predict_into(store, model, ds, alphabet=run.alphabet, rc_average=rc_average, batch_size=batch_size,
                     verbose=verbose)
        ds.close()
        metrics = metrics_by_column(store.column, k_model, min_positives=min_positives)
        rows = performance_rows(metrics, table, pub)
        write_table(where.table, rows)
        with atomic_output(where.predictions_file) as tmp:
            store.write_npz(tmp, names=np.array(table.names), feature_class=np.array(table.feature_class))
    summary = {
        "data": str(data), "run": str(run.path), "samples": int(n), "features": int(k_model),
        "rc_average": rc_average, "min_positives": min_positives,
        "classes": summarize(metrics, table.feature_class),
    }
    if pub:
        summary["published"] = {key: {"mean": float(np.nanmean(v)), "median": float(np.nanmedian(v))}
                                for key, v in pub.items()}
    summary["na_features"] = int(np.isnan(metrics["auroc"]).sum())
    runs.write_json(where.summary_file, summary)
    summary["out_dir"] = str(where.dir)
    summary["rows"] = rows
    return summary


def evaluate_binary(run_dir: str | os.PathLike, data: str | os.PathLike) -> dict:
    """AUROC, AUPRC and F1 of a binary (TF-binding) run on a DeepBind fold or labelled FASTA,
    scored on one or both strands as the run was trained; also ``sequences``."""
    from chromseq.data.deepbind import read_binary
    from chromseq.data.encoding import one_hot
    from chromseq.evaluation.metrics import binary_metrics
    from chromseq.inference import predict_batches

    run = runs.Run.open(run_dir)
    data_set = read_binary(data, length=run.info.seq_len)
    both = run.info.extra.get("strands", 1) == 2  # score as the run was trained and tested
    x = one_hot(data_set.seqs, run.alphabet)
    score = predict_batches(run.model, x, alphabet=run.alphabet, rc_average=both)[:, 0]
    return {**binary_metrics(data_set.labels, score), "sequences": len(data_set)}


def format_summary(summary: dict, n_extremes: int = 5) -> str:
    """A short console table: per-class median/mean AUROC and AUPRC, best and worst features."""
    lines = [f"{'class':<10} {'n':>5} {'NA':>4} {'med AUROC':>10} {'mean AUROC':>11} {'med AUPRC':>10} "
             f"{'mean AUPRC':>11} {'mean F1':>8}"]
    for label, s in summary["classes"].items():
        lines.append(f"{label:<10} {s['n_features']:>5} {s['n_na']:>4} {s['median_auroc']:>10.4f} "
                     f"{s['mean_auroc']:>11.4f} {s['median_auprc']:>10.4f} {s['mean_auprc']:>11.4f} "
                     f"{s['mean_f1']:>8.4f}")
    rows = [r for r in summary.get("rows", []) if not np.isnan(r["auroc"])]
    if rows:
        rows.sort(key=lambda r: r["auroc"])
        fmt = lambda r: f"  {r['auroc']:.4f}  {r['name']}"  # noqa: E731
        lines.append("best features (AUROC):")
        lines += [fmt(r) for r in rows[::-1][:n_extremes]]
        lines.append("worst features (AUROC):")
        lines += [fmt(r) for r in rows[:n_extremes]]
    if summary.get("na_features"):
        lines.append(f"{summary['na_features']} feature(s) with fewer than {summary['min_positives']} positives "
                     "or no negatives: NA")
    return "\n".join(lines)
