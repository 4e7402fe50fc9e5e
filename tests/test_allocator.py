"""``import chromseq`` changes nothing; ``pool_cpu_memory()`` (what the CLI calls) pools CPU memory.

Each case runs in a fresh interpreter. glibc's part is read back through ``mallinfo2().hblks``
(the number of blocks served by ``mmap``): a freshly allocated 64 MB NumPy array is one such
block with glibc's defaults and none once ``mmap`` is off. TensorFlow's part: its BFC allocator
keeps statistics, so ``get_memory_info`` reports a peak.
"""

import ctypes
import os
import subprocess
import sys

import pytest

MMAPPED_BLOCKS = """
import ctypes, numpy as np
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
before = libc.mallinfo2().hblks
big = np.ones(64 * 2**20, np.uint8)
print(libc.mallinfo2().hblks - before)
"""


def _has_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


def _run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items()
            if k not in ("TF_CPU_ALLOCATOR_USE_BFC", "CHROMSEQ_SYSTEM_ALLOCATOR", "GLIBC_TUNABLES")
            and not k.startswith("MALLOC_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**base, "TF_CPP_MIN_LOG_LEVEL": "3", **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_import_chromseq_leaves_the_process_alone():
    code = ("import os, chromseq, chromseq.cli, chromseq.data, chromseq.models, chromseq.training;"
            "print(os.environ.get('TF_CPU_ALLOCATOR_USE_BFC'))")
    assert _run(code) == "None"


@pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2)")
@pytest.mark.parametrize("setup, env, mmapped", [
    ("import chromseq", {}, 1),                                              # import: glibc defaults
    ("import chromseq; chromseq.pool_cpu_memory()", {}, 0),                  # pooled: no mmap
    ("import chromseq; chromseq.pool_cpu_memory()", {"CHROMSEQ_SYSTEM_ALLOCATOR": "1"}, 1),  # opt-out
])
def test_glibc_pooling_only_when_asked(setup, env, mmapped):
    assert int(_run(setup + "\n" + MMAPPED_BLOCKS, **env)) == mmapped


def test_pool_cpu_memory_before_tensorflow_turns_on_its_bfc_allocator():
    code = ("import chromseq; chromseq.pool_cpu_memory(); import tensorflow as tf; x = tf.ones((256, 256));"
            "print(tf.config.experimental.get_memory_info('CPU:0')['peak'] > 0)")
    assert _run(code) == "True"


def test_the_command_line_pools_memory(tmp_path):
    """Every command runs with the pools on (the CLI calls pool_cpu_memory before any command)."""
    code = ("import sys, os, click\n"
            "from chromseq.cli import main\n"
            "@main.command('probe-env')\n"
            "def probe():\n"
            "    click.echo(os.environ.get('TF_CPU_ALLOCATOR_USE_BFC'))\n"
            "main(['probe-env'], standalone_mode=False)\n")
    assert _run(code) == "true"
