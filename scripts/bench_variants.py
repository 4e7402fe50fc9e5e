"""Variant scoring throughput on CPU: variants/s of `variant-effect` for a DeepSEA-size and a small model.

    python scripts/bench_variants.py [--variants 256]

Writes a random 200-kb genome and a VCF of random SNVs, builds untrained models of the right shape
(speed does not depend on the weights) as run directories, and times `score_variants`, which predicts
ref and alt windows on both strands (4 forward passes per variant) through the shared batch path.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=256)
    args = parser.parse_args()

    from chromseq.apps.predict import RunModel
    from chromseq.apps.variants import score_variants
    from chromseq.data.annotations import FeatureTable
    from chromseq.models import build_model
    from chromseq.runs import RunInfo, write_run_info

    tmp = Path(tempfile.mkdtemp(prefix="bench_variants_"))
    rng = np.random.default_rng(0)
    genome = "".join(rng.choice(list("ACGT"), 200_000))
    (tmp / "g.fa").write_text(">chr1\n" + "\n".join(genome[i:i + 60] for i in range(0, len(genome), 60)) + "\n")
    pos = np.sort(rng.choice(np.arange(1000, 199_000), args.variants, replace=False))
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for p in pos:
        ref = genome[p - 1]
        lines.append(f"chr1\t{p}\t.\t{ref}\t{'A' if ref != 'A' else 'C'}\t.\t.\t.")
    (tmp / "v.vcf").write_text("\n".join(lines) + "\n")
    for name, length, k in (("deepsea", 1000, 919), ("demo_cnn", 200, 919)):
        run = tmp / name
        run.mkdir()
        build_model(name, length, k).save(run / "model.keras")
        write_run_info(run, RunInfo(path=run, alphabet="AGCT", seq_len=length, n_features=k))
        FeatureTable.default(k).write_tsv(run / "features.tsv")
        rm = RunModel.load(run)
        score_variants(rm, tmp / "v.vcf", tmp / "g.fa")  # warm up (trace)
        start = time.perf_counter()
        scored = score_variants(rm, tmp / "v.vcf", tmp / "g.fa")
        seconds = time.perf_counter() - start
        print(f"{name} (L={length}, K={k}): {len(scored.variants)} variants in {seconds:.1f} s = "
              f"{len(scored.variants) / seconds:.1f} variants/s")


if __name__ == "__main__":
    import chromseq

    chromseq.pool_cpu_memory()  # as the chromseq commands do, before TensorFlow is imported
    main()
