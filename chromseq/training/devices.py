"""Devices: GPU or CPU, distribution strategies, threads, precision, and a device speed check."""

from __future__ import annotations

import os
import time

from chromseq.errors import ChromseqError


def describe_devices() -> dict:
    """Visible devices and the one training will use."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {"gpus": [g.name for g in gpus], "cpus": len(tf.config.list_physical_devices("CPU")),
            "using": "GPU" if gpus else "CPU", "cores": os.cpu_count()}


def grow_gpu_memory() -> int:
    """Let every visible GPU allocate memory as needed instead of all of it at start; returns how many.

    TensorFlow otherwise reserves nearly all of a GPU's memory in the first process that uses
    it, so two ``tfbs --jobs`` processes on one GPU fight for it. Must run before the GPUs are
    first used (``make_strategy`` and ``configure_runtime`` call it); does nothing on CPU.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")  # lists without initializing the runtime
    if gpus:  # read at GPU start-up: also covers a GPU another library initializes first
        os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialized (a notebook that used the GPU first): left as it is
            pass
    return len(gpus)


def configure_runtime(threads: int | None = None, deterministic: bool = True, seed: int = 0) -> None:
    """GPU memory growth, thread pools, seeds and (on CPU) deterministic ops, before any model is built."""
    import keras
    import tensorflow as tf

    grow_gpu_memory()

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # already initialized in this process (tests, notebooks)
            pass
    keras.utils.set_random_seed(seed)
    if deterministic and not tf.config.list_physical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()


def mixed_policy_for_gpus(capabilities: list[tuple[int, int]]) -> str:
    """``mixed_bfloat16`` when every GPU has compute capability >= 8.0 (Ampere on), else ``mixed_float16``.

    bfloat16 keeps float32's exponent range, so it needs no loss scaling; older GPUs have no
    fast bfloat16 kernels and use float16, with the loss scaled (Keras wraps the optimizer in a
    ``LossScaleOptimizer`` at compile time).
    """
    return "mixed_bfloat16" if capabilities and min(capabilities) >= (8, 0) else "mixed_float16"


def gpu_capabilities() -> list[tuple[int, int]]:
    """Compute capability (major, minor) of each visible GPU ((0, 0) where TensorFlow does not say)."""
    import tensorflow as tf

    caps = []
    for gpu in tf.config.list_physical_devices("GPU"):
        cap = tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0)
        caps.append((int(cap[0]), int(cap[1])))
    return caps


def set_precision(mixed: bool | str) -> str:
    """Global Keras dtype policy; outputs stay float32. Returns the policy's name.

    ``mixed=True``: ``mixed_bfloat16`` on CPU (when its oneDNN runs bfloat16) and on GPUs of
    compute capability >= 8.0, ``mixed_float16`` on older GPUs. A policy name
    (``"mixed_bfloat16"``, ``"mixed_float16"``, ``"float32"``) forces that policy.
    """
    import keras
    import tensorflow as tf

    if not mixed or mixed == "float32":
        keras.mixed_precision.set_global_policy("float32")
        return "float32"
    gpus = tf.config.list_physical_devices("GPU")
    if isinstance(mixed, str):
        if mixed not in ("mixed_bfloat16", "mixed_float16"):
            raise ChromseqError(f"precision {mixed!r}: use float32, mixed_bfloat16 or mixed_float16")
        policy = mixed
    else:
        policy = mixed_policy_for_gpus(gpu_capabilities()) if gpus else "mixed_bfloat16"
    if policy == "mixed_bfloat16" and not gpus and not cpu_runs_bfloat16():
        raise ChromseqError("device.mixed_precision: this CPU's oneDNN cannot run bfloat16 convolutions "
                            "(e.g. under ONEDNN_MAX_CPU_ISA=AVX2); set device.mixed_precision: false")
    keras.mixed_precision.set_global_policy(policy)
    return policy


def cpu_runs_bfloat16() -> bool:
    """Whether a bfloat16 convolution runs on this CPU (oneDNN refuses some instruction-set caps)."""
    import tensorflow as tf

    try:
        with tf.device("/CPU:0"):
            tf.nn.conv1d(tf.ones((1, 8, 4), tf.bfloat16), tf.ones((3, 4, 2), tf.bfloat16), 1, "VALID").numpy()
        return True
    except (tf.errors.OpError, RuntimeError):
        return False


def make_strategy(name: str):
    """A ``tf.distribute`` strategy: auto (all local GPUs if several), one_device, mirrored, multi_worker."""
    import tensorflow as tf

    grow_gpu_memory()  # before the strategy initializes the GPUs
    if name == "multi_worker":  # before anything touches the runtime: collectives are set up at startup
        if "TF_CONFIG" not in os.environ:
            raise ChromseqError("strategy multi_worker needs TF_CONFIG (cluster and task) in the environment")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    device = gpus[0].name if gpus else "/cpu:0"
    return tf.distribute.OneDeviceStrategy(device)


def is_chief(strategy) -> bool:
    """True on the worker that writes files (always, except non-chief multi-worker tasks)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type in ("chief", None) or (resolver.task_type == "worker" and resolver.task_id == 0
                                                     and "chief" not in resolver.cluster_spec().as_dict())


def benchmark_devices(repeats: int = 5) -> list[dict]:
    """A device speed check: Conv2D (32 filters 7x7x3) over random 100x100x100x3 on each device."""
    import tensorflow as tf

    rows = []
    devices = tf.config.list_logical_devices("CPU") + tf.config.list_logical_devices("GPU")
    for device in devices:
        with tf.device(device.name):
            x = tf.random.normal((100, 100, 100, 3))
            kernel = tf.random.normal((7, 7, 3, 32))

            @tf.function
            def step(x=x, kernel=kernel):
                return tf.reduce_sum(tf.nn.conv2d(x, kernel, strides=1, padding="VALID"))

            step().numpy()  # trace and warm up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                step().numpy()
                times.append(time.perf_counter() - start)
        rows.append({"device": device.name, "type": device.device_type, "seconds": min(times),
                     "median_seconds": sorted(times)[len(times) // 2]})
    return rows
