"""Genome language model targets: held-out perplexity vs order-k Markov chains and the published numbers.

    python scripts/lm_benchmark.py [--shared ../shared/data] [--minutes 10] [--only repeat,random,ecoli,plasmodium]

Zhang & Kamath (2016) report 1.002 (repeat), 4.003 (random), 3.679 (E. coli), 2.938 (P. falciparum,
whole genome) after one epoch; the Markov perplexities are fitted on the same training region.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

PUBLISHED = {"repeat": 1.002, "random": 4.003, "ecoli": 3.679, "plasmodium": 2.938}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--out", default="runs/lm_benchmark")
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget for each real genome")
    parser.add_argument("--only", default="repeat,random,ecoli,plasmodium")
    args = parser.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    genomes = {
        "repeat": (shared / "lm_sanity" / "repeatgenome_input.txt", "configs/lm.yaml", []),
        "random": (shared / "lm_sanity" / "randomgenome_input.txt", "configs/lm.yaml", ["train.epochs=3"]),
        "ecoli": (shared / "ecoli" / "GCF_000005845.2_ASM584v2_genomic.fna.gz", "configs/lm_genome.yaml",
                  [f"train.minutes={args.minutes}"]),
        "plasmodium": (shared / "plasmodium" / "Pf3D7_01_02_v3.fa.gz", "configs/lm_genome.yaml",
                       [f"train.minutes={args.minutes}"]),
    }
    from chromseq.lm.train import evaluate_lm, train_lm

    rows = []
    for name in args.only.split(","):
        fasta, config, overrides = genomes[name]
        run = train_lm(fasta, config, out / name, overwrite=True, overrides=[*overrides, "train.verbose=0"])
        m = evaluate_lm(run)
        rows.append({"genome": name, "perplexity": m["perplexity"], "bits_per_base": m["bits_per_base"],
                     "best_markov_order": m["best_markov_order"], "best_markov": m["best_markov_perplexity"],
                     "markov_0": m["markov_perplexity"]["0"], "published": PUBLISHED[name],
                     "test_bases": m["test_bases"]})
        print(json.dumps(rows[-1]), flush=True)
    lines = ["| genome | held-out perplexity | bits/base | best Markov (order) | Markov k=0 | published (Zhang & Kamath) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['genome']} | {r['perplexity']:.4f} | {r['bits_per_base']:.4f} | "
                     f"{r['best_markov']:.4f} (k={r['best_markov_order']}) | {r['markov_0']:.4f} | {r['published']} |")
    table = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    import chromseq

    chromseq.pool_cpu_memory()  # as the chromseq commands do, before TensorFlow is imported
    main()
