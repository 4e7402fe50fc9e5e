"""A real-data example of `chromseq data build`: E. coli K-12 genome + its NCBI annotation.

Features (both strands; the bundle carries reverse complements, so features are unstranded):
gene starts (200 bp around each gene's 5' end, a TSS proxy), CDS, tRNA, rRNA, ncRNA, pseudogenes
and mobile elements. The single chromosome is split into contiguous regions: train 0-3.5 Mb,
valid 3.5-3.9 Mb, test 3.9 Mb-end. A small CNN is trained and evaluated per feature.

    python scripts/ecoli_example.py [--shared ../shared/data] [--out runs/ecoli] [--epochs 4]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

CONTIG = "NC_000913.3"
TYPES = {"CDS": "CDS", "tRNA": "tRNA", "rRNA": "rRNA", "ncRNA": "ncRNA", "pseudogene": "pseudogene",
         "mobile_genetic_element": "mobile_element"}


def gff_to_beds(gff: Path, out: Path) -> dict[str, int]:
    """One BED per feature type (+ gene starts), 0-based half-open."""
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[tuple[int, int]]] = {name: [] for name in [*TYPES.values(), "gene_start"]}
    with gzip.open(gff, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 9:
                continue
            kind, start, end, strand = cols[2], int(cols[3]) - 1, int(cols[4]), cols[6]
            if kind in TYPES:
                rows[TYPES[kind]].append((start, end))
            if kind == "gene":
                five = start if strand == "+" else end
                rows["gene_start"].append((max(0, five - 100), five + 100))
    for name, intervals in rows.items():
        with open(out / f"E.coli_K-12__{name}__None.bed", "w") as fh:
            fh.writelines(f"{CONTIG}\t{s}\t{e}\n" for s, e in intervals)
    return {name: len(v) for name, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--out", default="runs/ecoli")
    parser.add_argument("--data", default="data/ecoli")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    shared = Path(args.shared)
    genome = shared / "ecoli" / "GCF_000005845.2_ASM584v2_genomic.fna.gz"
    gff = shared / "ecoli" / "GCF_000005845.2_ASM584v2_genomic.gff.gz"

    from chromseq.data.build import build_dataset
    from chromseq.evaluation.evaluate import evaluate, format_summary
    from chromseq.training import train

    data = Path(args.data)
    counts = gff_to_beds(gff, data / "features")
    print("annotation intervals:", counts)
    manifest = build_dataset(genome, data / "features", data / "dataset", negatives=1.0,
                             holdout_valid=[f"{CONTIG}:3500000-3900000"],
                             holdout_test=[f"{CONTIG}:3900000-4641652"])
    print("samples:", manifest["samples"], "skipped:", manifest["skipped"])
    config = {"name": "ecoli", "seed": 0,
              "model": {"name": "demo_cnn", "params": {"filters": 128, "widths": [19, 7, 5], "pool_size": 4,
                                                       "dropout": 0.2}},
              "data": {"train": str(data / "dataset" / "train.mat"), "valid": str(data / "dataset" / "valid.mat"),
                       "crop": 600},
              "train": {"epochs": args.epochs, "batch_size": 64, "learning_rate": 0.002, "verbose": 2}}
    run = train(config, args.out, overwrite=True)
    summary = evaluate(run, data / "dataset" / "test.mat", rc_average=True, verbose=False)
    print(format_summary(summary))
    lines = ["| feature | positives (test) | prevalence | AUROC | AUPRC |", "|---|---:|---:|---:|---:|"]
    for r in summary["rows"]:
        lines.append(f"| {r['element']} | {r['positives']} | {r['prevalence']:.3f} | {r['auroc']:.3f} | {r['auprc']:.3f} |")
    table = "\n".join(lines)
    (Path(args.out) / "auroc_table.md").write_text(table + "\n")
    print(table)
    print(json.dumps(manifest["samples"]))


if __name__ == "__main__":
    import chromseq

    chromseq.pool_cpu_memory()  # as the chromseq commands do, before TensorFlow is imported
    main()
