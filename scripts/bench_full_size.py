"""Every data-scale command on a bundle of the real DeepSEA size: wall time, CPU time and peak RSS.

    chromseq data synth --out /big/synth --train 4400000 --valid 8000 --test 455024
    python scripts/bench_full_size.py --dir /big/synth [--small 200000] [--steps stream,inspect,...]

Each step runs in its own process (peak RSS is that process's own, from ``wait4``), on the whole
file and again limited to ``--small`` samples where the command takes a limit, so that memory
can be compared across sizes. Steps: ``stream`` (one epoch of the training input pipeline alone,
batch 256, shuffled blocks), ``inspect``, ``convert`` (the store is deleted afterwards), ``eval``
(a small CNN trained for a few steps, scored on test.mat), ``kmer`` (the k-mer baseline on all
training samples, scored on test.mat). One JSON line per measurement is appended to
``<dir>/full_size.jsonl``. Needs disk for one train.mat (17.6 GB), its store (2.3 GB) and the
k-mer count cache (15 GB at 4.4 M), and about 70 minutes of 2 cores for ``kmer`` (both sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHROMSEQ = [str(Path(sys.executable).with_name("chromseq"))]  # the console script of this environment
STEPS = ("stream", "inspect", "convert", "eval", "kmer")


def timed(name: str, cmd: list[str], log: Path, reports: bool = False, **extra) -> dict:
    """Run ``cmd``; wall seconds, CPU seconds and peak RSS of that process alone."""
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    with open(log.with_suffix(f".{name}.out"), "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    rc = os.waitstatus_to_exitcode(status)
    result = {"step": name, "rc": rc, "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
              "peak_rss_mb": round(usage.ru_maxrss / 1024), "date": time.strftime("%Y-%m-%d"), **extra}
    if reports:  # the step's own figures: its last line of JSON
        lines = [ln for ln in log.with_suffix(f".{name}.out").read_text().splitlines() if ln.startswith("{")]
        result.update(json.loads(lines[-1]) if lines else {})
    with open(log, "a") as f:
        f.write(json.dumps(result) + "\n")
    print(f"    {json.dumps(result)}", flush=True)
    if rc:
        raise SystemExit(f"{name} failed (rc {rc}); see {log.with_suffix(f'.{name}.out')}")
    return result


def stream_epoch(path: str, max_samples: int | None) -> None:
    """One epoch of the training input pipeline alone; prints samples and samples/s."""
    from chromseq.data import make_tf_dataset, open_dataset

    ds = open_dataset(path, max_samples=max_samples)
    data = make_tf_dataset(ds, batch_size=256, seed=0)
    n, start = 0, time.perf_counter()
    for x, _ in data:
        n += int(x.shape[0])
    seconds = time.perf_counter() - start
    print(json.dumps({"samples": n, "seconds": round(seconds, 1), "samples_per_s": round(n / seconds)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="folder with train.mat, valid.mat, test.mat")
    parser.add_argument("--small", type=int, default=200_000, help="the smaller size to compare memory with")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--stream-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_worker:
        import chromseq

        chromseq.pool_cpu_memory()  # as the chromseq commands do
        path, limit = args.stream_worker
        stream_epoch(path, int(limit) or None)
        return
    d = Path(args.dir)
    train, test = d / "train.mat", d / "test.mat"
    log = d / "full_size.jsonl"
    steps = args.steps.split(",")
    work = d / "bench_work"
    work.mkdir(exist_ok=True)
    if "stream" in steps:
        for limit in (args.small, 0):
            timed(f"stream_{limit or 'all'}", [sys.executable, __file__, "--dir", str(d), "--stream-worker",
                                               str(train), str(limit)], log, reports=True)
    if "inspect" in steps:
        timed("inspect", [*CHROMSEQ, "data", "inspect", str(train), "--json"], log)
    if "convert" in steps:
        store = work / "train.h5"
        timed("convert", [*CHROMSEQ, "data", "convert", str(train), "--out", str(store)], log)
        size = store.stat().st_size / 1e9
        with open(log, "a") as f:
            f.write(json.dumps({"step": "convert_store_size", "gb": round(size, 2)}) + "\n")
        store.unlink()
    if "eval" in steps:
        run = work / "eval_run"
        timed("eval_train_model", [*CHROMSEQ, "train", "--config", "configs/demo_cnn.yaml", "--run-dir", str(run),
                                   "--overwrite", "--set", f"data.train={train}", "--set", f"data.valid={d / 'valid.mat'}",
                                   "--set", f"data.test={test}", "--set", "train.epochs=1",
                                   "--set", "train.steps_per_epoch=40"], log)
        for limit in (args.small, 0):
            extra = ["--max-samples", str(limit)] if limit else []
            timed(f"eval_{limit or 'all'}", [*CHROMSEQ, "eval", "--run", str(run), "--data", str(test),
                                             "--out", str(work / f"eval_{limit}"), *extra], log)
    if "kmer" in steps:
        for limit in (args.small, 0):
            extra = ["--max-samples", str(limit)] if limit else []
            out = work / f"kmer_{limit or 'all'}"
            timed(f"kmer_{limit or 'all'}", [*CHROMSEQ, "baseline", "kmer", "--data", str(train), "--test", str(test),
                                             "--out", str(out), *extra], log)


if __name__ == "__main__":
    main()
