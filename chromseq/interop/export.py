"""Standard files out: a run's model as a TensorFlow SavedModel or an ONNX file.

Both exports take one input and give one output, under fixed names:

* ``sequence``: float32 (N, L, 4), one-hot in the run's alphabet (``AGCT`` for DeepSEA-layout
  runs; an all-zero row is N). L is the model's input length; recurrent and global-pooling
  models (``gru_stack``, ``bigru``, ``demo_rnn``, ``demo_cnn_rnn``, ``cwrnn``) take any L.
* ``probabilities``: float32 (N, K), one column per feature of the run, in ``features.tsv`` order.

and both carry the same metadata (:class:`ExportMetadata`): the alphabet, the length the run was
trained on, the model's input length (0 for any length), the feature names, whether
reverse-complement averaging is built in, and the chromseq version. Where to read it:

* SavedModel: the signature ``metadata`` (no inputs: ``tf.saved_model.load(d).signatures["metadata"]()``
  returns string / int64 / bool tensors, 0 for an unknown or free length), and the same as JSON
  in ``d/assets.extra/chromseq.json`` (TF Serving's folder for files that travel with a model;
  readable without TensorFlow, null for a free length). TF Serving and ``saved_model_cli run``
  cannot call a signature without inputs: there the JSON file is the way.
* ONNX: the model's ``metadata_props`` (``onnxruntime.InferenceSession(f).get_modelmeta()
  .custom_metadata_map``); every value is a string, ``feature_names`` a JSON list.

The SavedModel is a ``tf.Module`` holding the model, saved by ``tf.saved_model.save`` with a
``serving_default`` signature over the forward pass with ``training=False`` (dropout off). ONNX goes through that
SavedModel and tf2onnx (the optional extra ``chromseq[onnx]``): tf2onnx cannot read Keras 3
models directly, and converting a ``tf.function`` of the model fails for DeepSEA (an unused
regularizer node) and the Clockwork RNN (a captured constant becomes a second input), while
its SavedModel loader converts all eight architectures of the registry. Every export is checked
before it is put in place: it is reloaded (``tf.saved_model.load`` / onnxruntime) and must give
chromseq's predictions on random sequences to 1e-5; otherwise nothing is written and the error
says why.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chromseq.errors import ChromseqError
from chromseq.outputs import atomic_output, output_error

__all__ = ["FORMATS", "INPUT_NAME", "METADATA_FILE", "METADATA_SIGNATURE", "OUTPUT_NAME", "ExportMetadata",
           "export_onnx", "export_run", "export_savedmodel"]

FORMATS = ("savedmodel", "onnx")
INPUT_NAME = "sequence"
OUTPUT_NAME = "probabilities"
METADATA_SIGNATURE = "metadata"
METADATA_FILE = "assets.extra/chromseq.json"  # inside the SavedModel folder
ONNX_OPSET = 17  # onnxruntime >= 1.17 runs it; LSTM/GRU/Conv all map at this opset
CHECK_TOLERANCE = 1e-5
CHECK_SAMPLES = 8
CHECK_LENGTH = 100  # for models of any length whose run does not record one


@dataclass(frozen=True)
class ExportMetadata:
    """What an exported model says about its input and output.

    ``seq_len`` is the length the run was trained on (None when its dataset.json lacks it);
    ``input_length`` the length the export accepts (None: any length).
    """

    alphabet: str
    seq_len: int | None
    input_length: int | None
    feature_names: list[str]
    rc_average: bool
    chromseq_version: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_strings(self) -> dict[str, str]:
        """Every field as a string (ONNX ``metadata_props``): lengths as decimal, 0 for None,
        ``feature_names`` as a JSON list, ``rc_average`` as ``true``/``false``."""
        return {"alphabet": self.alphabet, "seq_len": str(self.seq_len or 0),
                "input_length": str(self.input_length or 0),
                "feature_names": json.dumps(self.feature_names),
                "rc_average": "true" if self.rc_average else "false",
                "chromseq_version": self.chromseq_version,
                "input_name": INPUT_NAME, "output_name": OUTPUT_NAME}


def export_run(run_dir: str | os.PathLike, format: str, out: str | os.PathLike, *, overwrite: bool = False,
               rc_average: bool = False) -> dict[str, Any]:
    """Export the model of the run ``run_dir`` as ``format`` (``savedmodel`` or ``onnx``) to ``out``.

    ``out`` is a folder for a SavedModel, a ``.onnx`` file for ONNX; an existing ``out`` is
    replaced only with ``overwrite``. ``rc_average`` builds reverse-complement averaging into
    the export (the mean of the probabilities of each sequence and its reverse complement in
    the run's alphabet, as ``chromseq predict --rc-average`` computes them).

    Returns ``{"format", "path", "metadata" (dict), "max_abs_diff"}``, the last being the largest
    difference from chromseq's own predictions on the check sequences.

    >>> export_run("runs/demo", "onnx", "demo.onnx")["max_abs_diff"] < 1e-5   # doctest: +SKIP
    True
    """
    from chromseq import __version__
    from chromseq.inference import model_input_spec
    from chromseq.models.portable import portable_model
    from chromseq.runs import Run

    format = _check_format(format, out)
    _check_out(Path(out), overwrite, folder=format == "savedmodel")
    run = Run.open(run_dir)
    model = run.model
    one_hot_input, length = model_input_spec(model)
    outputs = getattr(model, "output_shape", None)
    if not one_hot_input or not (isinstance(outputs, tuple) and len(outputs) == 2):
        raise ChromseqError(f"{run.path}: only models from one-hot sequences (N, L, 4) to feature probabilities "
                            f"(N, K) export; this one maps {model.input_shape} to {outputs}")
    metadata = ExportMetadata(alphabet=run.alphabet, seq_len=run.info.seq_len or length, input_length=length,
                              feature_names=list(run.feature_names), rc_average=rc_average,
                              chromseq_version=__version__)
    writer = export_savedmodel if format == "savedmodel" else export_onnx
    # chromseq's training-speed layers compute the same forward pass; the plain Keras ones
    # keep chromseq-only gradient code out of the exported graph
    diff = writer(portable_model(model), out, metadata, overwrite=overwrite)
    return {"format": format, "path": str(out), "metadata": metadata.as_dict(), "max_abs_diff": diff}


def export_savedmodel(model, out: str | os.PathLike, metadata: ExportMetadata, *,
                      overwrite: bool = False) -> float:
    """Write ``model`` (one-hot (N, L, 4) -> (N, K)) as a SavedModel folder ``out``.

    Signatures: ``serving_default`` (``sequence`` -> ``probabilities``) and ``metadata`` (no
    inputs -> ``alphabet``, ``seq_len``, ``input_length``, ``feature_names``, ``rc_average``,
    ``chromseq_version``); the metadata also as JSON in ``out/assets.extra/chromseq.json``.
    Returns the largest difference between the reloaded export and ``model`` on random sequences.
    """
    out = Path(out)
    _check_out(out, overwrite, folder=True)
    with _atomic_folder(out, overwrite) as tmp:
        _write_savedmodel(model, tmp, metadata)
        return _check_export(model, metadata, _savedmodel_predictor(tmp), out)


def export_onnx(model, out: str | os.PathLike, metadata: ExportMetadata, *, overwrite: bool = False,
                opset: int = ONNX_OPSET) -> float:
    """Write ``model`` (one-hot (N, L, 4) -> (N, K)) as the ONNX file ``out`` through tf2onnx.

    Input ``sequence``, output ``probabilities``, the metadata in ``metadata_props`` (see
    :meth:`ExportMetadata.as_strings`). Needs tf2onnx and onnxruntime (``pip install
    'chromseq[onnx]'``). Returns the largest difference between onnxruntime's predictions and
    ``model``'s on random sequences; a model the converter cannot handle is a ChromseqError.
    """
    out = Path(out)
    _check_out(out, overwrite, folder=False)
    tf2onnx, ort = _onnx_modules()
    if any(getattr(layer, "compute_dtype", None) == "bfloat16" for layer in model.layers):
        raise ChromseqError(f"{out}: the model computes in bfloat16 (trained with mixed precision), which "
                            "onnxruntime cannot run on the CPU; export --format savedmodel instead")
    with tempfile.TemporaryDirectory(prefix="chromseq-export-") as tmp:
        saved = Path(tmp) / "savedmodel"
        _write_savedmodel(model, saved, metadata)
        proto = _convert_to_onnx(tf2onnx, saved, opset, out)
    for key, value in metadata.as_strings().items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = (f"chromseq {metadata.chromseq_version} export: {INPUT_NAME} float32 (N, L, 4) one-hot "
                        f"in {metadata.alphabet} order -> {OUTPUT_NAME} float32 (N, K)")
    data = proto.SerializeToString()
    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - an op tf2onnx emitted that onnxruntime cannot run
        raise ChromseqError(f"{out}: tf2onnx converted the model but onnxruntime cannot load it "
                            f"({_first_line(exc)}); export --format savedmodel instead") from exc
    diff = _check_export(model, metadata, lambda x: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0], out)
    with atomic_output(out) as tmp_file:
        tmp_file.write_bytes(data)
    return diff


# --- SavedModel -------------------------------------------------------------------------------

def _write_savedmodel(model, path: Path, metadata: ExportMetadata) -> None:
    import tensorflow as tf

    spec = tf.TensorSpec([None, metadata.input_length, 4], tf.float32, name=INPUT_NAME)
    if metadata.rc_average:
        from chromseq.data.encoding import complement_permutation

        perm = tf.constant(complement_permutation(metadata.alphabet), tf.int32)

        def forward(x):
            rc = tf.gather(tf.reverse(x, axis=[1]), perm, axis=2)
            return 0.5 * (model(x, training=False) + model(rc, training=False))
    else:
        def forward(x):
            return model(x, training=False)

    def serve(sequence):
        return {OUTPUT_NAME: tf.cast(forward(sequence), tf.float32)}  # mixed-precision runs end in float32 too

    constants = {
        "alphabet": tf.constant(metadata.alphabet),
        "seq_len": tf.constant(metadata.seq_len or 0, tf.int64),
        "input_length": tf.constant(metadata.input_length or 0, tf.int64),
        "feature_names": tf.constant(metadata.feature_names, tf.string),
        "rc_average": tf.constant(metadata.rc_average),
        "chromseq_version": tf.constant(metadata.chromseq_version),
    }
    # a plain tf.Module, not Keras' ExportArchive: ExportArchive (Keras 3.15) writes every
    # variable twice, a 423 MB SavedModel for DeepSEA's 211 MB of weights
    module = tf.Module()
    module.model = model
    module.serve = tf.function(serve, input_signature=[spec])
    module.metadata = tf.function(lambda: dict(constants), input_signature=[])
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve,
                                                       METADATA_SIGNATURE: module.metadata})
    (path / "assets.extra").mkdir(exist_ok=True)
    (path / METADATA_FILE).write_text(json.dumps(metadata.as_dict(), indent=2) + "\n")


def _savedmodel_predictor(path: Path):
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    return lambda x: serve(**{INPUT_NAME: tf.constant(x)})[OUTPUT_NAME].numpy()


@contextlib.contextmanager
def _atomic_folder(path: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a hidden temporary folder beside ``path`` that replaces ``path`` when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial"))
    except OSError as exc:
        raise output_error(path, exc) from exc
    old = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders
        if path.exists():
            if not overwrite:  # appeared while we worked
                raise ChromseqError(f"{path}: exists; use --overwrite to replace it")
            old = path.with_name(f".{path.name}.{os.getpid()}.old")
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.replace(old, path)  # put the earlier export back
            old = None
        error = output_error(path, exc)
        if error is exc:
            raise
        raise error from exc
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- ONNX -------------------------------------------------------------------------------------

def _onnx_modules():
    try:
        import onnxruntime
        import tf2onnx
    except ImportError as exc:
        raise ChromseqError(f"--format onnx needs tf2onnx and onnxruntime ({exc.name} is not installed): "
                            "pip install 'chromseq[onnx]'") from exc
    return tf2onnx, onnxruntime


def _convert_to_onnx(tf2onnx, saved: Path, opset: int, out: Path):
    """The ONNX ModelProto of the SavedModel's ``serving_default`` signature."""
    from tf2onnx import tf_loader

    log = logging.getLogger("tf2onnx")
    level = log.level
    log.setLevel(logging.ERROR)  # its notes on placeholders and opsets; failures raise anyway
    try:
        graph_def, inputs, outputs, renames = tf_loader.from_saved_model(
            str(saved), None, None, tag="serve", signatures=["serving_default"], return_tensors_to_rename=True)
        proto, _ = tf2onnx.convert.from_graph_def(graph_def, input_names=inputs, output_names=outputs,
                                                  opset=opset, tensors_to_rename=renames)
    except Exception as exc:  # noqa: BLE001 - tf2onnx raises plain exceptions for ops it lacks
        raise ChromseqError(f"{out}: tf2onnx {tf2onnx.__version__} cannot convert this model "
                            f"({_first_line(exc)}); export --format savedmodel instead") from exc
    finally:
        log.setLevel(level)
    unknown = sorted(_unconverted_ops(proto.graph))
    if unknown:  # tf2onnx leaves the TensorFlow ops it cannot translate in the graph
        raise ChromseqError(f"{out}: tf2onnx {tf2onnx.__version__} has no ONNX conversion for the TensorFlow "
                            f"op(s) {', '.join(unknown)}; export --format savedmodel instead")
    return proto


def _unconverted_ops(graph) -> set[str]:
    """Op types of ``graph`` (loop and branch bodies included) that no ONNX operator set defines."""
    import onnx

    found = set()
    for node in graph.node:
        if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type):
            found.add(node.op_type)
        for attr in node.attribute:
            for sub in [attr.g, *attr.graphs] if attr.HasField("g") else attr.graphs:
                found |= _unconverted_ops(sub)
    return found


# --- checks -----------------------------------------------------------------------------------

def _check_format(format: str, out: str | os.PathLike) -> str:
    fmt = str(format).lower()
    if fmt not in FORMATS:
        raise ChromseqError(f"--format {format!r} is not known; allowed: {', '.join(FORMATS)}")
    suffix = Path(out).suffix.lower()
    if fmt == "onnx" and suffix != ".onnx":
        raise ChromseqError(f"{out}: an ONNX export is one file named *.onnx")
    if fmt == "savedmodel" and suffix == ".onnx":
        raise ChromseqError(f"{out}: a SavedModel is a folder; name it without .onnx or use --format onnx")
    return fmt


def _check_out(out: Path, overwrite: bool, *, folder: bool) -> None:
    from chromseq.outputs import check_writable

    if out.exists() and not overwrite:
        raise ChromseqError(f"{out}: exists; use --overwrite to replace it")
    if out.exists() and folder != out.is_dir():
        kind = "a file" if out.is_file() else "a folder"
        raise ChromseqError(f"{out}: is {kind}; the {'SavedModel' if folder else 'ONNX'} export would be "
                            f"{'a folder' if folder else 'a file'}")
    check_writable(out, folder=folder)


def _check_export(model, metadata: ExportMetadata, predict, out: Path) -> float:
    """Largest |export - chromseq| on random one-hot sequences (N rows included); refuses > 1e-5."""
    from chromseq.inference import predict_batches

    length = metadata.input_length or metadata.seq_len or CHECK_LENGTH
    rng = np.random.default_rng(0)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (CHECK_SAMPLES, length))]
    x[0, : length // 10] = 0.0  # a stretch of N
    ours = predict_batches(model, x, alphabet=metadata.alphabet, rc_average=metadata.rc_average)
    try:
        theirs = np.asarray(predict(x), np.float32)
    except Exception as exc:  # noqa: BLE001 - the reloaded export fails to run
        raise ChromseqError(f"{out}: the exported model does not run ({_first_line(exc)})") from exc
    if theirs.shape != ours.shape:
        raise ChromseqError(f"{out}: the exported model gives shape {theirs.shape}, chromseq {ours.shape}")
    diff = float(np.max(np.abs(theirs - ours))) if ours.size else 0.0
    if not diff <= CHECK_TOLERANCE:
        raise ChromseqError(f"{out}: the exported model differs from chromseq's predictions by {diff:.3g} "
                            f"(allowed {CHECK_TOLERANCE:g}); not written")
    return diff


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"
