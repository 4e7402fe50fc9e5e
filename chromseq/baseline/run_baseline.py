"""The k-mer logistic-regression baseline on a data file (what ``chromseq baseline kmer`` does),
and the pieces the TF-binding experiments share with it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError

MODEL_FILE = "model.joblib"
TABLE_FILE = "performance.tsv"
SUMMARY_FILE = "summary.json"


def is_binary_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a DeepBind fold (.seq.gz) or labelled FASTA rather than a one-hot file."""
    suffix = "".join(Path(path).suffixes)
    return ".seq" in suffix or suffix.endswith((".fa", ".fasta", ".fa.gz"))


def score_kmer_binary(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, *, alphabet: str = "ACGT",
                      strands: int = 2, n_jobs: int = 1) -> np.ndarray:
    """Fit the k-mer baseline on one-hot ``x_train`` (N, L, 4) with 0/1 ``y_train`` (N,) and score
    ``x_test`` (M,). ``strands=2``: trained on both strands, test scores averaged over both."""
    from chromseq.baseline.kmer import kmer_counts
    from chromseq.baseline.logistic import fit_kmer_baseline
    from chromseq.data.encoding import reverse_complement

    y = np.asarray(y_train).reshape(-1, 1)
    if strands == 2:
        x_train = np.concatenate([x_train, reverse_complement(x_train, alphabet)])
        y = np.concatenate([y, y])
    base = fit_kmer_baseline(kmer_counts(x_train, alphabet=alphabet), y, n_jobs=n_jobs, verbose=False)
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


def _multitask_counts(data, test_file, max_samples, pattern, crop):
    from chromseq.baseline.kmer import kmer_counts
    from chromseq.data import open_dataset
    from chromseq.data.annotations import FeatureTable

    tr = open_dataset(data, max_samples=max_samples, crop=crop, features=pattern or None)
    test_file = test_file or str(Path(data).with_name("test.mat"))
    te = open_dataset(test_file, crop=crop, features=pattern or None)
    (x, ytr), (xt, yte) = tr.load(), te.load()
    xtr, xte = kmer_counts(x, alphabet=tr.alphabet), kmer_counts(xt, alphabet=te.alphabet)
    names = tr.feature_names or [f"feature_{i}" for i in range(tr.n_features)]
    table_path = Path(data).with_name("features.tsv")
    table = FeatureTable.read(table_path, n_features=tr.total_features) if table_path.exists() else None
    table = table.subset(tr.features) if table is not None and tr.features is not None else table
    table = table or FeatureTable(names, *[["NA"] * len(names)] * 3, ["all"] * len(names))
    return xtr, ytr, xte, yte, table, str(test_file)


def kmer_baseline(data: str | os.PathLike, *, test_file: str | os.PathLike | None = None,
                  out_dir: str | os.PathLike = "runs/kmer", max_samples: int = 20000, pattern: str | None = None,
                  class_weight: bool = False, crop: int | None = None, jobs: int = -1) -> dict:
    """Fit the k-mer (k = 1..5) logistic baseline, one regression per feature, on ``data`` and
    score ``test_file`` (default: test.mat beside a .mat ``data``).

    ``data``: a multitask one-hot file (.mat, .h5, .npz; the first ``max_samples``, the features
    matching ``pattern``, the central ``crop`` bp) or a DeepBind fold / labelled FASTA (then
    ``test_file`` is required). Writes model.joblib, performance.tsv and summary.json into
    ``out_dir`` and returns the summary (with ``mean_auroc`` and ``out_dir`` added).
    """
    from chromseq.baseline.logistic import fit_kmer_baseline
    from chromseq.evaluation.metrics import mean_f1, per_feature_metrics, summarize
    from chromseq.evaluation.tables import performance_rows, write_table
    from chromseq.outputs import write_json

    out = Path(out_dir)
    if is_binary_file(data):
        xtr, ytr, xte, yte, table, test_file = _binary_counts(data, test_file)
    else:
        xtr, ytr, xte, yte, table, test_file = _multitask_counts(data, test_file, max_samples, pattern, crop)
    model = fit_kmer_baseline(xtr, ytr, class_weight="balanced" if class_weight else None, n_jobs=jobs)
    pred = model.predict(xte)
    metrics = per_feature_metrics(yte, pred)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    write_table(out / TABLE_FILE, performance_rows(metrics, table))
    f1, n = mean_f1(yte, pred)
    summary = {"train": str(data), "test": str(test_file), "train_samples": int(len(xtr)),
               "test_samples": int(len(xte)), "mean_f1": f1, "features_with_1pct_positives": n,
               "classes": summarize(metrics, table.feature_class)}
    write_json(out / SUMMARY_FILE, summary)
    return {**summary, "mean_auroc": float(np.nanmean(metrics["auroc"])), "out_dir": str(out)}
