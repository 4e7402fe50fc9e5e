"""The streamed k-mer baseline against the per-feature scikit-learn fit it replaces.

Fits scikit-learn's ``LogisticRegression(C=1, max_iter=200)`` (what ``chromseq baseline kmer``
did before: one regression per feature on the same standardized log k-mer counts) for every
``--stride``-th feature, in an interleaved order with results saved as it goes (the full fit takes
~2 CPU-s a feature at 20,000 samples), and compares their test AUROC with a ``chromseq baseline
kmer`` output folder. CPU time of the old fit is extrapolated to all features (they are
independent fits).

    chromseq data synth --out /tmp/s20k
    chromseq baseline kmer --data /tmp/s20k/train.mat --out /tmp/kmer20k
    python scripts/bench_kmer_baseline.py --data /tmp/s20k/train.mat --baseline /tmp/kmer20k --out /tmp/ref.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="train.mat (test.mat beside it is scored)")
    ap.add_argument("--baseline", required=True, help="output folder of `chromseq baseline kmer` on --data")
    ap.add_argument("--out", required=True, help="JSON of the scikit-learn results (resumed if it exists)")
    ap.add_argument("--stride", type=int, default=1, help="fit every N-th feature (interleaved order)")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    from chromseq.baseline.kmer import kmer_counts
    from chromseq.data import open_dataset
    from chromseq.evaluation.tables import read_table
    from chromseq.outputs import write_json

    warnings.filterwarnings("ignore")  # lbfgs' ConvergenceWarning at max_iter=200, as before
    with open_dataset(args.data) as tr, open_dataset(Path(args.data).with_name("test.mat")) as te:
        (x, y), (xt, yt) = tr.load(), te.load()
        counts, test_counts = kmer_counts(x, alphabet=tr.alphabet), kmer_counts(xt, alphabet=te.alphabet)
    scaler = StandardScaler().fit(np.log1p(counts))
    z = scaler.transform(np.log1p(counts)).astype(np.float32)
    zt = scaler.transform(np.log1p(test_counts))
    done = json.loads(Path(args.out).read_text()) if os.path.exists(args.out) else {}
    order = [j for s in range(8) for j in range(s, y.shape[1], 8)][:: args.stride]
    for j in order:
        if str(j) in done or y[:, j].min() == y[:, j].max():
            continue
        start = time.process_time()
        model = LogisticRegression(C=1.0, max_iter=200).fit(z, y[:, j])
        cpu = time.process_time() - start
        auroc = roc_auc_score(yt[:, j], model.predict_proba(zt)[:, 1]) if 0 < yt[:, j].sum() < len(yt) else None
        done[str(j)] = {"auroc": auroc, "cpu_s": cpu, "n_iter": int(model.n_iter_[0])}
        write_json(args.out, done)
    rows = read_table(Path(args.baseline) / "performance.tsv")
    summary = json.loads((Path(args.baseline) / "summary.json").read_text())
    idx = [int(j) for j in done if done[j]["auroc"] is not None and not np.isnan(rows[int(j)]["auroc"])]
    diff = np.array([rows[j]["auroc"] - done[str(j)]["auroc"] for j in idx])
    old_cpu = np.mean([done[str(j)]["cpu_s"] for j in idx]) * y.shape[1]
    new_cpu = summary["fit"]["cpu_seconds"]
    print(f"{len(idx)} features compared: AUROC new - scikit-learn median |d| {np.median(np.abs(diff)):.4f}, "
          f"worst {diff.min():+.4f}, best {diff.max():+.4f}, mean {diff.mean():+.4f}")
    print(f"scikit-learn fit, all {y.shape[1]} features (extrapolated): {old_cpu:.0f} CPU-s; "
          f"streamed fit: {new_cpu:.1f} CPU-s ({old_cpu / new_cpu:.0f}x)")


if __name__ == "__main__":
    main()
