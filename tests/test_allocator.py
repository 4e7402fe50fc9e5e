"""``import chromseq`` before TensorFlow pools CPU memory (TensorFlow's BFC allocator); opt-out works."""

import os
import subprocess
import sys

import pytest

PROBE = ("import chromseq, tensorflow as tf; x = tf.ones((256, 256));"
         "print(tf.config.experimental.get_memory_info('CPU:0')['peak'] > 0)")


@pytest.mark.parametrize("env,pooled", [({}, True), ({"CHROMSEQ_SYSTEM_ALLOCATOR": "1"}, False)])
def test_import_chromseq_pools_cpu_memory(env, pooled):
    base = {k: v for k, v in os.environ.items() if k not in ("TF_CPU_ALLOCATOR_USE_BFC", "CHROMSEQ_SYSTEM_ALLOCATOR")}
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env={**base, "TF_CPP_MIN_LOG_LEVEL": "3", **env})
    if pooled:
        assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr[-500:]
    else:  # TensorFlow's default CPU allocator keeps no statistics
        assert proc.returncode != 0 and "Allocator stats not available" in proc.stderr
