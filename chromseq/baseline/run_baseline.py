"""The k-mer logistic-regression baseline on a data file (what ``chromseq baseline kmer`` does),
and the pieces the TF-binding experiments share with it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

MODEL_FILE = "model.npz"
TABLE_FILE = "performance.tsv"
SUMMARY_FILE = "summary.json"


def is_binary_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a DeepBind fold (.seq.gz) or labelled FASTA rather than a one-hot file."""
    suffix = "".join(Path(path).suffixes)
    return ".seq" in suffix or suffix.endswith((".fa", ".fasta", ".fa.gz"))


def score_kmer_binary(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, *, alphabet: str = "ACGT",
                      strands: int = 2) -> np.ndarray:
    """Fit the k-mer baseline on one-hot ``x_train`` (N, L, 4) with 0/1 ``y_train`` (N,) and score
    ``x_test`` (M,). ``strands=2``: trained on both strands, test scores averaged over both."""
    from chromseq.baseline.kmer import kmer_counts
    from chromseq.baseline.logistic import fit_kmer_baseline
    from chromseq.data.encoding import reverse_complement

    y = np.asarray(y_train).reshape(-1, 1)
    if strands == 2:
        x_train = np.concatenate([x_train, reverse_complement(x_train, alphabet)])
        y = np.concatenate([y, y])
    base = fit_kmer_baseline(kmer_counts(x_train, alphabet=alphabet), y, verbose=False)
    score = base.predict(kmer_counts(x_test, alphabet=alphabet))[:, 0]
    if strands == 2:
        score = 0.5 * (score + base.predict(kmer_counts(reverse_complement(x_test, alphabet), alphabet=alphabet))[:, 0])
    return score


def _binary_counts(data, test_file):
    from chromseq.baseline.kmer import kmer_counts
    from chromseq.data.annotations import FeatureTable
    from chromseq.data.deepbind import read_binary_folds

    if not test_file:
        raise ChromseqError("give --test for DeepBind/FASTA data")
    train, test = read_binary_folds(data, test_file)
    table = FeatureTable([Path(data).name.split(".")[0]], ["NA"], ["NA"], ["NA"], ["TF"])
    return (kmer_counts(train.seqs), train.labels[:, None], kmer_counts(test.seqs), test.labels[:, None],
            table, str(test_file))


def _feature_table(ds, data):
    from chromseq.data.annotations import FeatureTable

    names = ds.feature_names or [f"feature_{i}" for i in range(ds.n_features)]
    table_path = Path(data).with_name("features.tsv")
    table = FeatureTable.read(table_path, n_features=ds.total_features) if table_path.exists() else None
    table = table.subset(ds.features) if table is not None and ds.features is not None else table
    return table or FeatureTable(names, *[["NA"] * len(names)] * 3, ["all"] * len(names))


def _fit_multitask(data, max_samples, pattern, crop, c, class_weight, block_size, out, verbose):
    """Stream ``data`` once into a k-mer count cache in ``out`` (deleted after), then fit."""
    import tempfile

    from chromseq.baseline.count_cache import cache_counts, cached_blocks
    from chromseq.baseline.logistic import fit_streamed
    from chromseq.data import open_dataset

    with open_dataset(data, max_samples=max_samples, crop=crop, features=pattern or None) as ds:
        if not ds.has_labels:
            raise ChromseqError(f"{data}: no labels to fit the k-mer baseline on")
        table = _feature_table(ds, data)
        with tempfile.TemporaryDirectory(dir=out, prefix=".kmer-counts-") as tmp:
            cache = Path(tmp) / "counts.h5"
            stats = cache_counts(ds, cache, block_size=block_size, verbose=verbose)
            model = fit_streamed(cached_blocks(cache, block_size), stats, c=c, class_weight=class_weight,
                                 verbose=verbose)
        return model, stats.n, table, ds


def _score_multitask(model, test_file, crop, features, block_size, out: Path) -> tuple[dict, float, int, int]:
    """Per-feature metrics of ``test_file``, counted and scored block by block; also the mean F1
    over features with >= 1 % positives, their number, and the number of test samples. Scores
    wait on disk feature by feature (memory does not grow with the test set)."""
    from chromseq.baseline.kmer import kmer_counts
    from chromseq.data import open_dataset
    from chromseq.evaluation.columns import ColumnStore
    from chromseq.evaluation.metrics import f1_at, metrics_by_column

    with open_dataset(test_file, crop=crop, features=features) as te:
        if not te.has_labels:
            raise ChromseqError(f"{test_file}: no labels to score the k-mer baseline against")
        n, k = te.n_samples, te.n_features
        with ColumnStore(out, n, k) as store:
            for _, x, y in te.iter_blocks(block_size):
                store.add(model.predict(kmer_counts(x, alphabet=te.alphabet)), y)
            f1s = np.zeros(k)

            def column(j: int):
                y, s = store.column(j)
                f1s[j] = f1_at(y, s)[0]
                return y, s

            metrics = metrics_by_column(column, k)
    keep = metrics["prevalence"] >= 0.01  # Zhang & Kamath's multitask F1 (as metrics.mean_f1)
    return metrics, float(f1s[keep].mean()) if keep.any() else float("nan"), int(keep.sum()), n


def kmer_baseline(data: str | os.PathLike, *, test_file: str | os.PathLike | None = None,
                  out_dir: str | os.PathLike = "runs/kmer", max_samples: int | None = None,
                  pattern: str | None = None, class_weight: bool = False, crop: int | None = None,
                  c: float = 1.0, block_size: int = 4096, verbose: bool = True) -> dict:
    """Fit the k-mer (k = 1..5) logistic baseline, all features as one linear layer with a
    separate L2 penalty each (scikit-learn's ``C`` = ``c``), on ``data`` and score ``test_file``
    (default: test.mat beside a .mat ``data``).

    ``data``: a multitask one-hot file (.mat, .h5, .npz; all samples or the first
    ``max_samples``, the features matching ``pattern``, the central ``crop`` bp), counted in blocks
    of ``block_size`` into a temporary cache in ``out_dir`` (2.7 kB a sample and a byte a label,
    deleted after), or a DeepBind fold / labelled FASTA (then ``test_file`` is required). Writes
    model.npz, performance.tsv and summary.json into ``out_dir`` and returns the summary (with
    ``mean_auroc`` and ``out_dir`` added).
    """
    import time

    from chromseq.baseline.logistic import fit_kmer_baseline
    from chromseq.evaluation.metrics import mean_f1, per_feature_metrics, summarize
    from chromseq.evaluation.tables import performance_rows, write_table
    from chromseq.outputs import check_writable, write_json

    out = check_writable(out_dir, folder=True)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if is_binary_file(data):
        xtr, ytr, xte, yte, table, test_file = _binary_counts(data, test_file)
        model = fit_kmer_baseline(xtr, ytr, c=c, class_weight="balanced" if class_weight else None,
                                  verbose=verbose)
        n_train = len(xtr)
        fit_s = time.perf_counter() - start
        pred = model.predict(xte)
        metrics = per_feature_metrics(yte, pred)
        f1, n = mean_f1(yte, pred)
        n_test = len(yte)
    else:
        model, n_train, table, ds = _fit_multitask(data, max_samples, pattern, crop, c,
                                                   "balanced" if class_weight else None, block_size, out, verbose)
        fit_s = time.perf_counter() - start
        test_file = test_file or str(Path(data).with_name("test.mat"))
        metrics, f1, n, n_test = _score_multitask(model, test_file, crop, ds.features, block_size, out)
    model.save(out / MODEL_FILE)
    write_table(out / TABLE_FILE, performance_rows(metrics, table))
    summary = {"train": str(data), "test": str(test_file), "train_samples": int(n_train),
               "test_samples": int(n_test), "mean_f1": f1, "features_with_1pct_positives": n,
               "fit": {**model.info, "seconds": round(fit_s, 1)},
               "classes": summarize(metrics, table.feature_class)}
    write_json(out / SUMMARY_FILE, summary)
    return {**summary, "mean_auroc": float(np.nanmean(metrics["auroc"])), "out_dir": str(out)}
