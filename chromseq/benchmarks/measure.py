"""Benchmarks: the loader alone, training from disk vs memory, inference paths, peak memory.

Each measurement runs in its own process (``python -m chromseq.benchmarks.measure MODE ...`` prints one JSON
line) so that peak RSS belongs to that measurement alone.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from chromseq.errors import ChromseqError


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    import tensorflow as tf

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "tensorflow": tf.__version__,
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
            "gpus": [g.name for g in tf.config.list_physical_devices("GPU")]}


def matmul_gflops(n: int = 2048, repeats: int = 10, rounds: int = 5) -> float:
    """float32 GFLOP/s of a large matrix product in TensorFlow (the machine's practical peak).

    The best of ``rounds`` timings of ``repeats`` products: on a shared machine single timings
    vary by 10 %, and the best one is the strictest yardstick for the model's rate.
    """
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    f().numpy()
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            f().numpy()
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9)
    return best


def bench_loader(path: str, batch_size: int = 256, batches: int = 200, block_size: int = 4096) -> dict:
    from chromseq.data import iter_batches, open_dataset

    ds = open_dataset(path)
    n = 0
    start = time.perf_counter()
    pool = max(4, 16384 // block_size)  # same pool memory whatever the block size
    for i, (x, _) in enumerate(iter_batches(ds, batch_size=batch_size, seed=0, block_size=block_size,
                                            shuffle_buffer_blocks=pool)):
        n += len(x)
        if i + 1 >= batches:
            break
    seconds = time.perf_counter() - start
    return {"mode": "loader", "block_size": block_size, "samples_per_s": n / seconds, "samples": n,
            "peak_rss_mb": peak_rss_mb()}


def bench_train(model_name: str, source: str, path: str, *, batch_size: int = 64, batches: int = 8, warmup: int = 2,
                precision: str = "float32", crop: int | None = None, optimizer: str = "adam") -> dict:
    """Training samples/s of ``model_name`` from the file on disk (stream) or from arrays in memory.

    ``optimizer='sgd'`` is SGD with momentum 0.9, DeepSEA's published recipe (cheaper per step
    than Adam: one moment instead of two).
    """
    import keras
    import tensorflow as tf

    from chromseq.data import make_tf_dataset, open_dataset
    from chromseq.models import build_model
    from chromseq.training.devices import cpu_runs_bfloat16
    from chromseq.training.optimizers import make_optimizer

    if precision == "bf16" and not tf.config.list_physical_devices("GPU") and not cpu_runs_bfloat16():
        raise ChromseqError("--precision bf16: this CPU's oneDNN cannot run bfloat16 convolutions")
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bf16" else "float32")
    ds = open_dataset(path, crop=crop)
    model = build_model(model_name, ds.seq_len, ds.n_features)
    opt = make_optimizer("sgd", 0.01, momentum=0.9) if optimizer == "sgd" else make_optimizer("adam", 1e-3)
    model.compile(opt, "binary_crossentropy")
    needed = (batches + warmup) * batch_size
    if source == "disk":
        data = make_tf_dataset(ds, batch_size=batch_size, seed=0).repeat()
    else:
        x, y = ds.read(0, min(ds.n_samples, needed))
        data = (tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.astype(np.float32)))
                .batch(batch_size).repeat().prefetch(tf.data.AUTOTUNE))

    class Timer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == warmup - 1:
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    timer = Timer()
    # Plain model.fit, not chromseq.training.fit: the core's per-epoch work (whole-validation-set
    # prediction, atomic checkpoints, state.json, history.csv) and its run-directory lock are not
    # part of the per-step throughput measured here and would only add noise to the timing.
    model.fit(data, steps_per_epoch=batches + warmup, epochs=1, verbose=0, callbacks=[timer], shuffle=False)
    rate = batches * batch_size / timer.seconds
    return {"mode": f"train_{source}", "model": model_name, "precision": precision, "batch_size": batch_size,
            "optimizer": optimizer,
            "samples_per_s": rate, "params": model.count_params(), "peak_rss_mb": peak_rss_mb()}


def bench_predict(model_name: str, path: str, *, batch_size: int = 256, samples: int = 1024,
                  crop: int | None = None) -> dict:
    """Inference samples/s: chromseq's predict path vs a bare compiled call vs ``model.predict``."""
    import tensorflow as tf

    from chromseq.data import open_dataset
    from chromseq.inference import predict_batches
    from chromseq.models import build_model

    ds = open_dataset(path, crop=crop)
    x, _ = ds.read(0, samples)
    x = x.astype(np.float32)
    model = build_model(model_name, ds.seq_len, ds.n_features)
    bare = tf.function(lambda b: model(b, training=False))
    rates = {}
    for name, run in (("bare_call", lambda: [bare(x[i:i + batch_size]).numpy() for i in range(0, len(x), batch_size)]),
                      ("chromseq", lambda: predict_batches(model, x, batch_size=batch_size)),
                      ("model_predict", lambda: model.predict(x, batch_size=batch_size, verbose=0))):
        run()  # trace / warm up
        start = time.perf_counter()
        run()
        rates[name] = len(x) / (time.perf_counter() - start)
    return {"mode": "predict", "model": model_name, "samples_per_s": rates, "peak_rss_mb": peak_rss_mb()}


def run_isolated(args: list[str]) -> dict:
    """Run one measurement in a fresh process and return its JSON result."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "chromseq.benchmarks.measure", *args], capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark {args} failed: {proc.stderr[-1500:]}")
    return json.loads(lines[-1])


def _main(argv: list[str]) -> None:
    mode, *rest = argv
    kw = dict(a.split("=", 1) for a in rest[1:]) if rest else {}
    ints = {k: int(v) for k, v in kw.items() if v.lstrip("-").isdigit()}
    kw.update(ints)
    if mode == "loader":
        result = bench_loader(rest[0], **kw)
    elif mode in ("train_disk", "train_memory"):
        model, path = rest[0].split(":", 1)
        result = bench_train(model, mode.split("_")[1], path, **kw)
    elif mode == "predict":
        model, path = rest[0].split(":", 1)
        result = bench_predict(model, path, **kw)
    elif mode == "matmul":
        result = {"mode": "matmul", "gflops": matmul_gflops()}
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
