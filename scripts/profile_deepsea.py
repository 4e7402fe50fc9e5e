"""Where a DeepSEA training step spends its time on this CPU: every op of the step timed alone.

    python scripts/profile_deepsea.py --batch-size 256 [--repeats 3] [--json out.json]
    ONEDNN_MAX_CPU_ISA=AVX2 python scripts/profile_deepsea.py ...   # oneDNN limited to AVX2

Each piece of a step (the three convolutions forward; their input and filter gradients as
TensorFlow's backward kernels and as chromseq's forms, the input gradient a forward convolution and
the filter gradient one matmul per tap; pooling, ReLU, dropout, the two dense layers and their
gradients, the Adam update of 52.8 M weights) runs alone as
a compiled function on DeepSEA's real shapes; the table gives each one's median time, GFLOP/s
and share of the matmul yardstick (best of five 2048^2 float32 products), then the sum of the
parts beside a whole measured training step. It shows which kernel to blame when a CPU trains
DeepSEA below its matmul rate, and which gradient form is faster there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()

    import chromseq

    chromseq.pool_cpu_memory()
    import numpy as np
    import tensorflow as tf

    from chromseq.models import build_model
    from chromseq.models.layers import (
        _input_gradient_forward,
        filter_gradient,
        forward_product_convolutions,
    )

    b = args.batch_size

    def timeit(fn, *inputs) -> float:
        fn(*inputs)  # trace and warm up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = fn(*inputs)
            (out[0] if isinstance(out, (list, tuple)) else out).numpy()
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    rnd = lambda *shape: tf.random.normal(shape, seed=1)  # noqa: E731
    a = rnd(2048, 2048)
    mm = tf.function(lambda a: tf.matmul(a, a))
    yard = max(2 * 2048**3 / timeit(mm, a) / 1e9 for _ in range(5))

    rows = []

    def add(name: str, fn, inputs, flops: float = 0.0) -> None:
        sec = timeit(tf.function(fn), *inputs)
        rate = flops / sec / 1e9 if flops else None
        rows.append({"op": name, "ms": round(sec * 1e3, 1), "gflops": rate and round(rate, 1),
                     "share_of_matmul": rate and round(rate / yard, 3)})
        print(f"{name:<34} {sec * 1e3:9.1f} ms" + (f" {rate:7.1f} GFLOP/s {rate / yard:6.1%}" if rate else ""),
              flush=True)

    length = 1000
    convs = [(length, 4, 320), (248, 320, 480), (60, 480, 960)]
    for i, (n_in, c_in, c_out) in enumerate(convs, 1):
        x, w = rnd(b, n_in, c_in), rnd(8, c_in, c_out) * 0.05
        n_out = n_in - 7
        dy = rnd(b, n_out, c_out)
        flops = 2.0 * b * n_out * c_out * 8 * c_in
        x4, w4, dy4 = x[:, None], w[None], dy[:, None]
        add(f"conv{i} forward", lambda x, w: tf.nn.conv1d(x, w, 1, "VALID"), (x, w), flops)
        add(f"conv{i} dx, backward kernel",
            lambda w, dy, size=(b, 1, n_in, c_in): tf.raw_ops.Conv2DBackpropInput(input_sizes=size, filter=w, out_backprop=dy,
                                                         strides=[1, 1, 1, 1], padding="VALID"), (w4, dy4), flops)
        add(f"conv{i} dw, backward kernel",
            lambda x, dy, size=(1, 8, c_in, c_out): tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=size, out_backprop=dy,
                                                          strides=[1, 1, 1, 1], padding="VALID"), (x4, dy4), flops)
        if c_in >= 16:  # chromseq's gradients (models/layers.py)
            add(f"conv{i} dx, forward product", _input_gradient_forward, (x, w, dy), flops)
            add(f"conv{i} dw, per-tap matmuls", lambda x, dy: filter_gradient(x, dy, 8), (x, dy), flops)
        add(f"conv{i} relu fwd+bwd", lambda y, dy: (tf.nn.relu(y), tf.raw_ops.ReluGrad(gradients=dy, features=y)),
            (dy, dy))
        if i < 3:
            def pool(y):
                with tf.GradientTape() as tape:
                    tape.watch(y)
                    p = tf.nn.max_pool1d(y, 4, 4, "VALID")
                return tape.gradient(p, y, output_gradients=tf.ones_like(p))
            add(f"pool{i} fwd+bwd", pool, (dy,))
        dropped = dy[:, : n_out // 4 * 4 : 4] if i < 3 else dy  # dropout follows the pooling
        # Keras 3's Dropout runs the stateless kernel (a third of tf.nn.dropout's time here)
        add(f"drop{i} mask + apply",
            lambda y, rate=0.2 if i < 3 else 0.5: tf.nn.experimental.stateless_dropout(y, rate, seed=[1, 2]),
            (dropped,))
    x, w, dy = rnd(b, 50880), rnd(50880, 925) * 0.01, rnd(b, 925)
    flops = 2.0 * b * 50880 * 925
    add("dense forward", lambda x, w: tf.matmul(x, w), (x, w), flops)
    add("dense dx, dy @ W.T (Keras)", lambda w, dy: tf.matmul(dy, w, transpose_b=True), (w, dy), flops)
    add("dense dx, (W @ dy.T).T (chromseq)", lambda w, dy: tf.transpose(tf.matmul(w, dy, transpose_b=True)),
        (w, dy), flops)
    add("dense dw, x.T @ dy", lambda x, dy: tf.matmul(x, dy, transpose_a=True), (x, dy), flops)
    x, w, dy = rnd(b, 925), rnd(925, 919) * 0.01, rnd(b, 919)
    add("head forward+grads", lambda x, w, dy: (tf.matmul(x, w), tf.matmul(dy, w, transpose_b=True),
                                                 tf.matmul(x, dy, transpose_a=True)), (x, w, dy), 6.0 * b * 925 * 919)

    model = build_model("deepsea", seq_len=length, n_features=919)

    from chromseq.training.optimizers import make_optimizer

    optimizer = make_optimizer("adam", 1e-3)  # what training and `chromseq bench train` use
    optimizer.build(model.trainable_variables)
    grads = [tf.zeros_like(v) for v in model.trainable_variables]

    def update(g):
        optimizer.apply_gradients(zip(g, model.trainable_variables))
        return model.trainable_variables[0].value

    add("Adam update, 52.8 M weights", update, (grads,))

    x = tf.one_hot(tf.random.uniform((b, length), 0, 4, tf.int32, seed=1), 4)
    y = tf.cast(tf.random.uniform((b, 919), seed=2) < 0.05, tf.float32)
    model.compile(make_optimizer("adam", 1e-3), "binary_crossentropy")  # as chromseq bench train
    model.train_on_batch(x, y)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - t)
    step = float(np.median(times))
    forward_dx = forward_product_convolutions()

    def in_step(op: str) -> bool:  # what chromseq's layers run on this CPU (Keras' kernels for conv1)
        if op.startswith(("conv2", "conv3")):
            if "dw, backward kernel" in op or ("dx" in op and ("forward" in op) != forward_dx):
                return False
        return op != "conv1 dx, backward kernel" and "(Keras)" not in op  # the data needs no gradient

    parts = sum(r["ms"] for r in rows if in_step(r["op"])) / 1e3
    print(f"\nwhole training step (Keras compile + train_on_batch): {step * 1e3:.0f} ms = {b / step:.1f} samples/s, "
          f"{3.3 * b / step:.0f} GFLOP/s = {3.3 * b / step / yard:.0%} of matmul ({yard:.0f} GFLOP/s)")
    print(f"sum of the parts chromseq's layers run here (input gradients: "
          f"{'forward products' if forward_dx else 'backward kernels'}; kernel gradients: per-tap matmuls): "
          f"{parts * 1e3:.0f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"batch_size": b, "cpu": platform.processor() or platform.machine(),
                       "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "default"),
                       "matmul_gflops": round(yard, 1), "step_ms": round(step * 1e3), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
