#!/usr/bin/env bash
# The GPU check, under 10 minutes on one CUDA machine (chromseq installed with '.[gpu]' in .venv):
#   1. what TensorFlow sees (nvidia-smi, chromseq bench device: the seed's Conv2D check)
#   2. DeepSEA and DanQ training throughput: float32, mixed bfloat16, mixed float16 (loss-scaled), XLA
#   3. the input pipeline alone at GPU batch sizes (train.mat -> tf.data), to compare with 2.
#   4. the fast test suite with the GPU visible
# Every figure goes to stdout and to $OUT (default: a new folder under /tmp): the card's name is in gpu.txt.
# Without a visible GPU it says so and exits 0 (nothing to check).
#
#   bash scripts/gpu_check.sh                 # set OUT=dir, SAMPLES=n, BATCH=n, BATCHES=n to change them
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
CHROMSEQ=${CHROMSEQ:-.venv/bin/chromseq}
SAMPLES=${SAMPLES:-8192}      # synthetic train.mat, 1000 bp x 919 features (DeepSEA's shape)
BATCH=${BATCH:-256}
BATCHES=${BATCHES:-30}        # timed steps per figure, after warm-up
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

if ! "$PY" -c "import sys, tensorflow as tf; sys.exit(0 if tf.config.list_physical_devices('GPU') else 1)" 2>/dev/null
then
    echo "gpu_check: no CUDA GPU visible to TensorFlow (CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES-unset}'); nothing to check"
    exit 0
fi

OUT=${OUT:-$(mktemp -d -t chromseq-gpu-check-XXXXXX)}
mkdir -p "$OUT"
start=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - start )) s)"; }

step "devices"
{ nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv 2>/dev/null || true
  "$PY" -c "
import tensorflow as tf
for g in tf.config.list_physical_devices('GPU'):
    print(g.name, tf.config.experimental.get_device_details(g))
print('tensorflow', tf.__version__, 'cuda build', tf.sysconfig.get_build_info().get('cuda_version'),
      'cudnn', tf.sysconfig.get_build_info().get('cudnn_version'))"; } | tee "$OUT/gpu.txt"
timeout 120 "$CHROMSEQ" bench device | tee "$OUT/bench_device.txt"

step "synthetic bundle: $SAMPLES training samples"
DATA="$OUT/data"
[ -f "$DATA/train.mat" ] || timeout 180 "$CHROMSEQ" data synth --out "$DATA" --train "$SAMPLES" --valid 256 --test 256

step "training throughput (chromseq bench train): float32 and bf16, batch $BATCH"
timeout 150 "$CHROMSEQ" bench train --data "$DATA/train.mat" --model deepsea --model danq --batch-size "$BATCH" \
    --batches "$BATCHES" --optimizer sgd --json "$OUT/bench_float32.json" | tee "$OUT/bench_float32.txt"
timeout 120 "$CHROMSEQ" bench train --data "$DATA/train.mat" --model deepsea --model danq --batch-size "$BATCH" \
    --batches "$BATCHES" --optimizer sgd --precision bf16 --json "$OUT/bench_bf16.json" | tee "$OUT/bench_bf16.txt"

step "training throughput by policy and XLA, and the input pipeline alone"
timeout 240 "$PY" - "$DATA/train.mat" "$BATCH" "$BATCHES" <<'EOF' | tee "$OUT/policies.tsv"
import sys, time
import chromseq
chromseq.pool_cpu_memory()
import keras
import tensorflow as tf
from chromseq.data import make_tf_dataset, open_dataset
from chromseq.models import build_model
from chromseq.training.devices import grow_gpu_memory, set_precision
from chromseq.training.optimizers import make_optimizer

path, batch, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
grow_gpu_memory()
ds = open_dataset(path)
print("what\tmodel\tpolicy\txla\tsamples_per_s", flush=True)
stream = make_tf_dataset(ds, batch_size=batch, seed=0).repeat()
it = iter(stream)
next(it)
t = time.perf_counter()
for _ in range(4 * batches):
    next(it)
print(f"pipeline\t-\tuint8->float32\t-\t{4 * batches * batch / (time.perf_counter() - t):.0f}", flush=True)
x, y = ds.read(0, min(ds.n_samples, 4 * batch))
data = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32"))).batch(batch).repeat()
for name in ("deepsea", "danq"):
    for policy, xla in (("float32", False), ("mixed_bfloat16", False), ("mixed_float16", False),
                        ("float32", True), ("mixed_bfloat16", True)):
        try:
            set_precision(policy)
            keras.utils.clear_session()
            model = build_model(name, ds.seq_len, ds.n_features)
            model.compile(make_optimizer("sgd", 0.01, momentum=0.9), "binary_crossentropy", jit_compile=xla)
            model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)  # trace, autotune, warm up
            t = time.perf_counter()
            model.fit(data, steps_per_epoch=batches, epochs=1, verbose=0)
            rate = batches * batch / (time.perf_counter() - t)
            print(f"train\t{name}\t{policy}\t{xla}\t{rate:.0f}", flush=True)
        except Exception as exc:  # a failing combination is a finding, not the end of the check
            print(f"train\t{name}\t{policy}\t{xla}\tFAILED: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
set_precision("float32")
EOF

step "test suite (fast tests) with the GPU visible"
left=$(( 570 - ($(date +%s) - start) ))
if [ "$left" -gt 60 ]; then
    timeout "$left" .venv/bin/pytest -q -x -m "not slow" -n 4 --dist loadfile -p no:cacheprovider \
        2>&1 | tee "$OUT/tests.txt" | tail -25 || echo "gpu_check: test suite failed or ran out of time (see $OUT/tests.txt)"
else
    echo "gpu_check: $left s left, test suite skipped"
fi
echo
echo "gpu_check: done in $(( $(date +%s) - start )) s; results in $OUT/"
