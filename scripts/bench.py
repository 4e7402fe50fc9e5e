"""The benchmark suite in one run: loader, training disk vs memory, inference paths, peak RSS.

    python scripts/bench.py [--out runs/bench] [--samples 4000] [--batches 6] [--repeats 3]

Uses a synthetic DeepSEA-layout bundle (1000 bp, 919 features), its `data convert` store, and
chromseq's `bench train` / `bench predict` for deepsea, danq, gru_stack and demo_cnn_rnn.
Results: runs/bench/*.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bench")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1, help="median of this many timings per training figure")
    args = parser.parse_args()
    out = Path(args.out)
    data = out / "data"
    cs = [str(Path(sys.executable).with_name("chromseq"))]
    if not (data / "train.mat").exists():
        subprocess.run([*cs, "data", "synth", "--out", str(data), "--train", str(args.samples), "--valid", "64",
                        "--test", "64"], check=True)
    if not (data / "train.h5").exists():  # the same samples as a sample-major, bit-packed store
        subprocess.run([*cs, "data", "convert", str(data / "train.mat"), "--out", str(data / "train.h5")], check=True)
    subprocess.run([*cs, "bench", "train", "--data", str(data / "train.mat"), "--store", str(data / "train.h5"),
                    "--batches", str(args.batches), "--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
                    "--json", str(out / "train.json")], check=True)
    subprocess.run([*cs, "bench", "predict", "--data", str(data / "train.mat"), "--json", str(out / "predict.json")],
                   check=True)


if __name__ == "__main__":
    main()
