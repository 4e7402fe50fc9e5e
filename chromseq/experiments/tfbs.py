"""The DeepBind / DeMo TF-binding experiment (ENCODE folds, ``chromseq tfbs``): one TF, one model at a time.

Training folds hold bound sequences only; each gets a dinucleotide-shuffled negative. A tenth of
the training pairs (a sequence and its shuffle together, so nothing leaks) is held out for early
stopping; the test fold is used once, for the reported numbers. A TF binds either strand, so by
default every model (the k-mer baseline too) trains on both strands of each training sequence
and scores a sequence as the mean over its two strands. The trained model is saved as a
run directory, so ``chromseq interpret saliency --run ...`` works on it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chromseq import runs
from chromseq.data.deepbind import BinarySet, read_binary_folds
from chromseq.data.encoding import one_hot, reverse_complement
from chromseq.errors import ChromseqError
from chromseq.evaluation.metrics import binary_metrics

#: defaults that fit 101-bp inputs (DeepSEA's three pools of 4 need >= 163 bp)
SHORT_INPUT_DEFAULTS = {
    "deepsea": {"pool_size": 2, "conv_filters": [128, 192, 256], "dense_units": 128},
}
#: the BiLSTM alone learns slowly at Adam's 1e-3: on ARID3A (one strand) test AUROC was 0.69
#: after 10 epochs at 1e-3 and 0.84 at 3e-3 (gradients clipped)
LEARNING_RATES = {"demo_rnn": 3e-3}
#: test-fold scores of a trained model, beside its run directory's standard files
PREDICTIONS_FILE = "test_predictions.npz"


def both_strands(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x (ACGT one-hot) with the reverse complement of every sequence appended; y repeated."""
    return np.concatenate([x, reverse_complement(x, "ACGT")]), np.concatenate([y, y])


def tf_name(train_file: str | os.PathLike) -> str:
    """The TF's name from its training fold: ``ARID3A_..._AC.seq.gz`` -> ``ARID3A_...``."""
    return Path(train_file).name.split(".")[0].removesuffix("_AC")


def split_pairs(data: BinarySet, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train/valid, keeping each positive with its shuffle (ids 'x' and 'x_shuf')."""
    base = np.array([i.removesuffix("_shuf") for i in data.ids])
    groups = np.unique(base)
    rng = np.random.default_rng(seed)
    valid_groups = set(rng.choice(groups, max(1, int(len(groups) * valid_fraction)), replace=False))
    is_valid = np.array([b in valid_groups for b in base])
    return np.flatnonzero(~is_valid), np.flatnonzero(is_valid)


def train_binary(train_file: str | os.PathLike, test_file: str | os.PathLike, model_name: str,
                 run_dir: str | os.PathLike, *, params: dict | None = None, epochs: int = 30, batch_size: int = 64,
                 learning_rate: float | None = None, patience: int = 4, valid_fraction: float = 0.1, seed: int = 0,
                 length: int | None = None, strands: int = 2, verbose: int = 0) -> dict:
    """Train ``model_name`` on one TF's training fold; return test metrics (auroc, auprc, f1).

    Trained with ``chromseq.training.fit`` into ``run_dir`` (replaced if it exists): Adam
    (``learning_rate`` defaults to ``LEARNING_RATES`` or 1e-3, gradient norm clipped at 1),
    batches shuffled per epoch, learning rate x0.3 after 2 epochs without a better validation
    AUROC (whole held-out set), early stopping after ``patience``, the best epoch's model kept.
    ``strands=2`` trains on both strands and averages them.
    """
    import keras

    from chromseq.inference import predict_batches
    from chromseq.models import build_model
    from chromseq.training.core import fit, multilabel_validation
    from chromseq.training.optimizers import FusedAdam

    train, test = read_binary_folds(train_file, test_file, length=length, seed=seed)
    if not train.labels.any():
        raise ChromseqError(f"{train_file}: no bound (positive) sequences")
    tr, va = split_pairs(train, valid_fraction, seed)
    x = one_hot(train.seqs, "ACGT", dtype=np.float32)
    y = train.labels.astype(np.float32)[:, None]
    keras.utils.set_random_seed(seed)
    p = {**SHORT_INPUT_DEFAULTS.get(model_name, {}), **(params or {})} if x.shape[1] < 163 else dict(params or {})
    lr = learning_rate or LEARNING_RATES.get(model_name, 1e-3)

    def build():
        model = build_model(model_name, x.shape[1], 1, **p)
        model.compile(FusedAdam(lr, clipnorm=1.0), "binary_crossentropy")
        return model

    (xtr, ytr), (xva, yva) = (x[tr], y[tr]), (x[va], y[va])
    if strands == 2:
        (xtr, ytr), (xva, yva) = both_strands(xtr, ytr), both_strands(xva, yva)
    run_dir = Path(run_dir)
    # a rerun replaces the TF's earlier run (overwrite); AUROC over the whole validation set
    fitted = fit(build, (xtr, ytr), multilabel_validation(xva, yva), run_dir, epochs=epochs, batch_size=batch_size,
                 seed=seed, monitor="val_auroc", patience=patience, reduce_lr={"factor": 0.3, "patience": 2},
                 overwrite=True, tensorboard=False, verbose=verbose, run_files=[PREDICTIONS_FILE])
    model = fitted.model
    xt = one_hot(test.seqs, "ACGT", dtype=np.float32)
    score = predict_batches(model, xt, alphabet="ACGT", rc_average=strands == 2)[:, 0]
    metrics = binary_metrics(test.labels, score)
    name = tf_name(train_file)
    runs.write_run_info(run_dir, runs.RunInfo(path=run_dir, alphabet="ACGT", seq_len=x.shape[1], n_features=1,
                                              task="binary", extra={"train": str(train_file), "test": str(test_file),
                                                                    "model": model_name, "strands": strands,
                                                                    "learning_rate": lr}))
    from chromseq.data.annotations import FeatureTable

    cell = name.split("_")[1] if "_" in name else "NA"
    FeatureTable([name], [cell], [name.split("_")[0]], ["None"], ["TF"]).write_tsv(run_dir / runs.FEATURES_FILE)
    result = {"tf": name, "model": model_name, "epochs_run": fitted.epochs_run, "strands": strands,
              "train_sequences": int(len(tr)), "valid_sequences": int(len(va)), "test_sequences": len(test),
              **{k: metrics[k] for k in ("auroc", "auprc", "f1")}}
    runs.write_json(run_dir / runs.METRICS_FILE, result)
    from chromseq.outputs import savez

    savez(run_dir / PREDICTIONS_FILE, compressed=True, y_true=test.labels, y_pred=score)
    return result


def kmer_binary(train_file: str | os.PathLike, test_file: str | os.PathLike, *, seed: int = 0,
                valid_fraction: float = 0.1, length: int | None = None, strands: int = 2) -> dict:
    """The k-mer logistic baseline on exactly the training pairs (and strands) the networks use."""
    from chromseq.baseline.run_baseline import score_kmer_binary

    train, test = read_binary_folds(train_file, test_file, length=length, seed=seed)
    tr, _ = split_pairs(train, valid_fraction, seed)
    score = score_kmer_binary(one_hot([train.seqs[i] for i in tr], "ACGT"), train.labels[tr],
                              one_hot(test.seqs, "ACGT"), strands=strands)
    m = binary_metrics(test.labels, score)
    name = tf_name(train_file)
    return {"tf": name, "model": "kmer_logistic", "epochs_run": 0, "strands": strands, "train_sequences": int(len(tr)),
            "valid_sequences": 0, "test_sequences": len(test), **{k: m[k] for k in ("auroc", "auprc", "f1")}}


def pair_folds(directory: str | os.PathLike) -> list[tuple[Path, Path]]:
    """(train, test) pairs of a DeepBind folder: ``train/X_AC.seq.gz`` with ``test/X_B.seq.gz``."""
    directory = Path(directory)
    pairs = []
    for train in sorted((directory / "train").glob("*_AC.seq*")):
        stem = train.name.split("_AC.seq")[0]
        tests = sorted((directory / "test").glob(f"{stem}_B.seq*"))
        if tests:
            pairs.append((train, tests[0]))
    if not pairs:
        raise ChromseqError(f"{directory}: no train/*_AC.seq.gz with a matching test/*_B.seq.gz")
    return pairs


def run_tf(train_file: Path, test_file: Path, models: list[str], out_dir: str | os.PathLike, *, epochs: int = 30,
           strands: int = 2, kmer: bool = True, seed: int = 0, threads: int | None = None,
           verbose: int = 0) -> list[dict]:
    """The k-mer baseline and each model on one TF (runs under ``out_dir/<TF>/<model>``); result rows.

    ``verbose=2`` prints a line per epoch (Keras), prefixed by nothing: with several TFs side by
    side the lines interleave, the final rows name their TF.
    """
    from chromseq.training.devices import configure_runtime, grow_gpu_memory

    grow_gpu_memory()  # several --jobs processes share one GPU: none may take all of its memory
    if threads:
        configure_runtime(threads, deterministic=False, seed=seed)
    name = tf_name(train_file)
    rows = []
    if kmer:
        rows.append(kmer_binary(train_file, test_file, seed=seed, strands=strands))
        print(format_row(rows[-1]), flush=True)
    for model in models:
        if verbose:
            print(f"{name}: training {model}", flush=True)
        rows.append(train_binary(train_file, test_file, model, Path(out_dir) / name / model, epochs=epochs,
                                 seed=seed, strands=strands, verbose=verbose))
        print(format_row(rows[-1]), flush=True)
    return rows


def run_tfs(pairs: list[tuple[Path, Path]], models: list[str], out_dir: str | os.PathLike, *, jobs: int = 1,
            threads: int | None = None, **kw) -> list[dict]:
    """``run_tf`` for every (train, test) pair, ``jobs`` TFs at a time in separate processes."""
    if jobs <= 1 or len(pairs) == 1:
        return [row for train, test in pairs for row in run_tf(train, test, models, out_dir, threads=threads, **kw)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_tf, train, test, models, out_dir, threads=threads, **kw) for train, test in pairs]
        return [row for f in futures for row in f.result()]


def format_row(r: dict) -> str:
    return f"{r['tf']:<48} {r['model']:<14} AUROC {r['auroc']:.4f}  AUPRC {r['auprc']:.4f}  F1 {r['f1']:.4f}"


def write_results(rows: list[dict], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """``results.tsv`` (one row per TF and model) and ``auroc_table.tsv`` (TFs x models)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = ["tf", "model", "auroc", "auprc", "f1", "epochs_run", "train_sequences", "test_sequences"]
    lines = ["\t".join(keys)] + ["\t".join(f"{r[k]:.4f}" if isinstance(r[k], float) else str(r[k]) for k in keys)
                                 for r in rows]
    runs.atomic_write_text(out / "results.tsv", "\n".join(lines) + "\n")
    tfs = list(dict.fromkeys(r["tf"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    auroc = {(r["tf"], r["model"]): r["auroc"] for r in rows}
    wide = ["\t".join(["tf", *models])] + ["\t".join([tf, *(f"{auroc[tf, m]:.4f}" if (tf, m) in auroc else "NA"
                                                          for m in models)]) for tf in tfs]
    runs.atomic_write_text(out / "auroc_table.tsv", "\n".join(wide) + "\n")
    return out / "results.tsv", out / "auroc_table.tsv"
