"""Stream a large train.mat through the tf.data pipeline: samples/s and peak RSS vs file size.

    python scripts/bench_stream.py --samples 200000 --scale 4 [--dir data/bench_stream]

Writes a DeepSEA-layout train.mat (v7.3, 1000 bp x 919 features, random one-hot) of N and
scale x N samples, then streams each in a fresh process (make_tf_dataset, batch 256, shuffled
blocks) and reports samples/s and the process's peak RSS. Memory must not grow with the file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def write(path: Path, n: int, length: int = 1000, k: int = 919, block: int = 8192) -> None:
    from chromseq.data import MatV73Writer

    rng = np.random.default_rng(0)
    with MatV73Writer(path, length, k) as w:
        for start in range(0, n, block):
            m = min(block, n - start)
            x = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (m, length))]
            w.append(x, (rng.random((m, k)) < 0.05).astype(np.uint8))


def stream(path: str, batches: int) -> dict:
    import resource

    from chromseq.data import make_tf_dataset, open_dataset

    ds = open_dataset(path)
    data = make_tf_dataset(ds, batch_size=256, seed=0)
    n = 0
    start = time.perf_counter()
    for i, (x, _) in enumerate(data):
        n += int(x.shape[0])
        if i + 1 >= batches:
            break
    seconds = time.perf_counter() - start
    return {"file_samples": ds.n_samples, "file_gb": os.path.getsize(path) / 1e9, "streamed": n,
            "samples_per_s": n / seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--batches", type=int, default=400, help="batches of 256 streamed per file")
    parser.add_argument("--dir", default="data/bench_stream")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(stream(args.worker, args.batches)))
        return
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in (args.samples, args.samples * args.scale):
        path = out / f"train_{n}.mat"
        if not path.exists():
            t = time.perf_counter()
            write(path, n)
            print(f"wrote {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s", flush=True)
        proc = subprocess.run([sys.executable, __file__, "--worker", str(path), "--batches", str(args.batches)],
                              capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if not line:
            raise SystemExit(proc.stderr[-2000:])
        results.append(json.loads(line[-1]))
        r = results[-1]
        print(f"{r['file_samples']:>9} samples ({r['file_gb']:.1f} GB): {r['samples_per_s']:,.0f} samples/s, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    import chromseq

    chromseq.pool_cpu_memory()  # as the chromseq commands do, before TensorFlow is imported
    main()
