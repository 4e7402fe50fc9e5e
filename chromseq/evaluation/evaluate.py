"""``evaluate``: predict a dataset with a trained run and score every feature."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from chromseq import runs
from chromseq.errors import ChromseqError
from chromseq.evaluation.metrics import per_feature_metrics, summarize
from chromseq.outputs import atomic_output


def open_for_run(run_dir: Path, data: str | os.PathLike, info: runs.RunInfo, max_samples: int | None = None):
    """Open ``data`` so it matches the run's input: crop to its length, same feature subset."""
    from chromseq.data import open_dataset

    probe = open_dataset(data, max_samples=1)
    crop = None
    if info.seq_len and probe.full_len != info.seq_len:
        if probe.full_len < info.seq_len:
            raise ChromseqError(f"{data}: sequences of {probe.full_len} bp, shorter than the model's {info.seq_len} bp")
        crop = info.seq_len  # trained on the center of longer windows
    features = info.extra.get("features")
    probe.close()
    return open_dataset(data, max_samples=max_samples, crop=crop, features=features)


def predict_dataset(model, ds, *, alphabet: str, rc_average: bool = False, batch_size: int = 256,
                    block_size: int = 16384, verbose: bool = True):
    """Predictions (N, K) for a whole dataset, read in blocks; also y (N, K) when labelled."""
    from chromseq.data.encoding import convert_alphabet
    from chromseq.inference import predict_batches

    preds, trues = [], []
    blocks = range(0, ds.n_samples, block_size)
    for start in tqdm(blocks, disable=not verbose, desc="predict", unit="block"):
        x, y = ds.read(start, start + block_size)
        if ds.alphabet != alphabet:
            x = convert_alphabet(x, ds.alphabet, alphabet)
        preds.append(predict_batches(model, x, batch_size=batch_size, rc_average=rc_average, alphabet=alphabet))
        if y is not None:
            trues.append(y)
    pred = np.concatenate(preds) if preds else np.zeros((0, ds.n_features), np.float32)
    return pred, (np.concatenate(trues) if trues else None)


def evaluate(
    run_dir: str | os.PathLike,
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

    run_dir = Path(run_dir)
    info = runs.read_run_info(run_dir)
    model = runs.load_model(run_dir)  # refuses a model whose input disagrees with dataset.json
    info.seq_len = info.seq_len or runs.model_input_length(model)  # crop the data to what the model takes
    ds = open_for_run(run_dir, data, info, max_samples)
    if not ds.has_labels:
        raise ChromseqError(f"{data}: no labels to evaluate against (use `chromseq predict` for unlabelled data)")
    k_model = model.output_shape[-1]
    if ds.n_features != k_model:
        raise ChromseqError(f"{data}: {ds.n_features} features, but the model in {run_dir} predicts {k_model}")
    if annotations:
        table = FeatureTable.read(annotations, n_features=ds.total_features)
        if ds.features is not None:
            table = table.subset(ds.features)
    elif (run_dir / runs.FEATURES_FILE).exists():
        table = FeatureTable.read(run_dir / runs.FEATURES_FILE, n_features=k_model)
    else:
        table = FeatureTable.default(k_model)
    pub = read_published_aucs(published, k_model) if published else None
    pred, y = predict_dataset(model, ds, alphabet=info.alphabet, rc_average=rc_average, batch_size=batch_size,
                              verbose=verbose)
    ds.close()
    metrics = per_feature_metrics(y, pred, min_positives=min_positives)
    rows = performance_rows(metrics, table, pub)
    out = Path(out_dir) if out_dir else run_dir / "eval" / Path(data).stem
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / "performance.tsv", rows)
    with atomic_output(out / "predictions.npz") as tmp:
        np.savez_compressed(tmp, y_true=y.astype(np.uint8), y_pred=pred.astype(np.float32),
                            names=np.array(table.names), feature_class=np.array(table.feature_class))
    summary = {
        "data": str(data), "run": str(run_dir), "samples": int(len(y)), "features": int(k_model),
        "rc_average": rc_average, "min_positives": min_positives,
        "classes": summarize(metrics, table.feature_class),
    }
    if pub:
        summary["published"] = {key: {"mean": float(np.nanmean(v)), "median": float(np.nanmedian(v))}
                                for key, v in pub.items()}
    summary["na_features"] = int(np.isnan(metrics["auroc"]).sum())
    runs.write_json(out / "summary.json", summary)
    summary["out_dir"] = str(out)
    summary["rows"] = rows
    return summary


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
