"""Bad input is caught where it enters: every case runs the command a user would run and expects
exit status 2 and one line ``error: <file>: <what is wrong>`` (no traceback, no TensorFlow text)."""

import errno
import gzip
import os
import re

import h5py
import numpy as np
import pytest
import yaml
from apps_helpers import motif_run, random_genome
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data.mat import open_dataset, write_mat_v5, write_mat_v73
from chromseq.data.synth import write_bundle
from chromseq.errors import describe_os_error

VCF_HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def refused(result, *needles):
    """Exit 2 and a single ``error:`` line holding every needle; returns that line."""
    text = result.output
    assert result.exit_code == 2, text
    assert "Traceback" not in text and "UnknownError" not in text and "function_node" not in text, text
    errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, text
    for needle in needles:
        assert str(needle) in errors[0], (needle, errors[0])
    return errors[0]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    write_bundle(out, n_train=48, n_valid=24, n_test=24, length=60, n_features=3, seed=0)
    return out


@pytest.fixture(scope="module")
def arrays(bundle):
    with open_dataset(bundle / "train.mat") as ds:
        return ds.load()


def _config(tmp_path, bundle, train_file, **train):
    cfg = {"name": "t", "run_dir": str(tmp_path / "run"), "seed": 0,
           "model": {"name": "demo_cnn", "params": {"filters": 4, "widths": [5, 3]}},
           "data": {"train": str(train_file), "valid": str(bundle / "valid.mat")},
           "train": {"epochs": 1, "batch_size": 16, "verbose": 0, **train}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


# -- 1. labels and one-hot rows, checked while streaming ---------------------------------------------

def _bad_label(x, y, path):
    y = y.copy()
    y[37, 2] = 2
    write_mat_v73(path, x, y)
    return "sample 37 feature column 2"


def _nan_label(x, y, path):
    y = y.astype(np.float32)
    y[29, 1] = np.nan
    with h5py.File(path, "w") as f:
        f["x"], f["y"] = x, y
    return "sample 29 feature column 1 holds nan"


def _two_bases(x, y, path):
    x = x.copy()
    x[41, 7] = [1, 0, 1, 0]
    write_mat_v73(path, x, y)
    return "sample 41 position 7 has 2 bases set"


def _not_binary_onehot(x, y, path):
    x = x.astype(np.float32)
    x[12, 20, 0] = 0.5
    np.savez(path, x=x, y=y)
    return "sample 12 position 20 holds 0.5"


@pytest.mark.parametrize("make, name", [(_bad_label, "badlabel.mat"), (_nan_label, "nanlabel.h5"),
                                        (_two_bases, "twobases.mat"), (_not_binary_onehot, "half.npz")])
def test_train_names_the_bad_sample_instead_of_a_tensorflow_error(bundle, arrays, tmp_path, make, name):
    bad = tmp_path / name
    where = make(*arrays, bad)
    result = run("train", "--config", _config(tmp_path, bundle, bad))
    refused(result, bad, where)
    # eval and inspect say the same about the same file
    refused(run("data", "inspect", bad), bad, where)


def test_rows_of_all_zeros_are_legal_n(bundle, arrays, tmp_path):
    x, y = arrays
    x = x.copy()
    x[3, 10:20] = 0
    write_mat_v73(tmp_path / "n.mat", x, y)
    result = run("data", "inspect", tmp_path / "n.mat")
    assert result.exit_code == 0, result.output


def test_square_arrays_whose_orientation_is_undecidable_are_refused(tmp_path):
    path = tmp_path / "square.h5"  # (N, 4, 4): (N, 4, L) or (N, L, 4)?
    with h5py.File(path, "w") as f:
        f["x"] = np.zeros((9, 4, 4), np.uint8)
    refused(run("data", "inspect", path), path, "shape (9, 4, 4)", "cannot be decided")
    v73 = tmp_path / "square.mat"  # train.mat layout (L, 4, N) with L = 4
    write_mat_v73(v73, np.zeros((9, 4, 4), np.uint8), np.zeros((9, 2), np.uint8))
    refused(run("data", "inspect", v73), v73, "shape (4, 4, 9)", "cannot be decided")
    fine = tmp_path / "four_samples.h5"  # 4 samples of 9 bp, (N, 4, L): nothing to decide
    with h5py.File(fine, "w") as f:
        f["x"] = np.zeros((4, 4, 9), np.uint8)
    assert run("data", "inspect", fine).exit_code == 0


# -- 2. damaged or foreign files at the readers -------------------------------------------------------

@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    d = tmp_path_factory.mktemp("apps")
    motif_run(d / "run")
    random_genome(d / "g.fa", {"chr1": 1500}, {})
    return d


def test_corrupt_gzip_vcf(apps, tmp_path):
    raw = gzip.compress((VCF_HEAD + "chr1\t500\trs1\tA\tG\t.\t.\t.\n" * 300).encode())
    vcf = tmp_path / "cut.vcf.gz"
    vcf.write_bytes(raw[: len(raw) // 2])
    result = run("variant-effect", "--run", apps / "run", "--vcf", vcf, "--genome", apps / "g.fa",
                 "--out", tmp_path / "o.tsv")
    refused(result, vcf, "corrupt or truncated gzip")


def test_binary_files_given_as_bed(apps, tmp_path):
    junk = bytes(range(256)) * 8
    for name, data in (("peaks.bed", junk), ("peaks.bed.gz", gzip.compress(junk)), ("zeros.bed", bytes(600))):
        bed = tmp_path / name
        bed.write_bytes(data)
        result = run("predict", "--run", apps / "run", "--bed", bed, "--genome", apps / "g.fa", "--out", tmp_path / "o.tsv")
        refused(result, bed, "not a BED file")
        feats = tmp_path / f"feats_{name}"
        feats.mkdir()
        (feats / "a.bed").write_bytes(data)
        result = run("data", "build", "--genome", apps / "g.fa", "--features", feats, "--out", tmp_path / f"b_{name}",
                     "--bin", 20, "--window", 100)
        refused(result, feats / "a.bed", "not a BED file")


def test_corrupt_gzip_genome(apps, tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMSEQ_CACHE", str(tmp_path / "cache"))
    raw = gzip.compress((apps / "g.fa").read_bytes())
    genome = tmp_path / "g.fa.gz"
    genome.write_bytes(raw[: len(raw) // 2])
    (tmp_path / "p.bed").write_text("chr1\t100\t200\n")
    result = run("predict", "--run", apps / "run", "--bed", tmp_path / "p.bed", "--genome", genome,
                 "--out", tmp_path / "o.tsv")
    refused(result, genome, "corrupt or truncated gzip")


@pytest.fixture(scope="module")
def other_length_run(tmp_path_factory, bundle):
    """A run whose model.keras takes 50 bp while its dataset.json says 60 bp (copied from another run)."""
    from chromseq.models import build_model
    from chromseq.runs import RunInfo, write_run_info

    run_dir = tmp_path_factory.mktemp("mixed") / "run"
    run_dir.mkdir()
    build_model("demo_cnn", 50, 3, filters=4, widths=[5, 3]).save(run_dir / "model.keras")
    write_run_info(run_dir, RunInfo(path=run_dir, seq_len=60, n_features=3))
    return run_dir


def test_model_of_another_length_than_its_run(other_length_run, bundle, tmp_path):
    model = other_length_run / "model.keras"
    refused(run("eval", "--run", other_length_run, "--data", bundle / "test.mat"), model, "50 bp", "60 bp")
    (tmp_path / "s.fa").write_text(">s1\nACGTACGTAC\n")
    refused(run("predict", "--run", other_length_run, "--fasta", tmp_path / "s.fa", "--out", tmp_path / "o.tsv"),
            model, "50 bp", "60 bp")


# -- 3. accepted silently before: refused, or accepted with a warning --------------------------------

MEME = "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF M1 one\nletter-probability matrix: alength= 4 w= {w}\n{rows}\n"


def _meme(path, rows, width=None):
    path.write_text(MEME.format(w=width or len(rows), rows="\n".join(" ".join(map(str, r)) for r in rows)))
    return path


def _synth(tmp_path, motifs):
    return run("data", "synth", "--out", tmp_path / "synth", "--train", 4, "--valid", 2, "--test", 2,
               "--length", 60, "--features", 3, "--motifs", motifs)


GOOD_ROWS = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1]] * 4


@pytest.mark.parametrize("row, needle", [([float("nan"), 0.5, 0.25, 0.25], "holds nan"),
                                         ([-0.2, 0.6, 0.3, 0.3], "holds -0.2"),
                                         ([0.5, 0.5, 0.5, 0.5], "row sums to 2")])
def test_motif_probabilities_must_be_probabilities(tmp_path, row, needle):
    path = _meme(tmp_path / "m.meme", [*GOOD_ROWS[:3], row, *GOOD_ROWS[4:]])
    refused(_synth(tmp_path, path), path, "line 10", "motif M1", needle)


def test_jaspar_counts_must_be_finite_and_non_negative(tmp_path):
    path = tmp_path / "m.jaspar"
    path.write_text(">MA1 X\nA [ 1 2 3 4 5 6 ]\nC [ 1 2 3 4 5 6 ]\nG [ 1 -2 3 4 5 6 ]\nT [ 1 2 3 4 5 6 ]\n")
    refused(_synth(tmp_path, path), path, "line 4", "motif MA1", "holds -2")


def test_motif_widths_outside_6_to_20_warn_or_refuse(tmp_path):
    short = [[0.7, 0.1, 0.1, 0.1]] * 4
    text = (MEME.format(w=8, rows="\n".join(" ".join(map(str, r)) for r in GOOD_ROWS))
            + "\nMOTIF TINY tiny\nletter-probability matrix: alength= 4 w= 4\n"
            + "\n".join(" ".join(map(str, r)) for r in short) + "\n")
    (tmp_path / "mixed.meme").write_text(text)
    result = _synth(tmp_path, tmp_path / "mixed.meme")
    assert result.exit_code == 0, result.output
    assert re.search(r"warning: .*mixed\.meme: 1 of 2 motif\(s\) outside widths 6-20 bp not used: TINY \(4 bp\)",
                     result.stderr), result.stderr
    only_short = _meme(tmp_path / "short.meme", short)
    refused(_synth(tmp_path, only_short), only_short, "none of its 1 motif(s) has a width of 6-20 bp", "M1 (4 bp)")


@pytest.mark.parametrize("override, needle", [
    ("train.learning_rate=.nan", "train.learning_rate: must be a finite number, got nan"),
    ("train.learning_rate=nan", "train.learning_rate: must be a finite number, got nan"),
    ("train.learning_rate=.inf", "train.learning_rate: must be a finite number, got inf"),
    ("train.learning_rate=0", "train.learning_rate: must be positive"),
    ("train.learning_rate=-0.001", "train.learning_rate: must be positive"),
    ("train.momentum=-1", "train.momentum: must be zero or positive"),
    ("train.lr_factor=.nan", "train.lr_factor: must be a finite number"),
    ("model.params.dropout=.inf", "model.params.dropout: must be a finite number, got inf"),
    ("train.monitor=val_accuracy", "train.monitor: 'val_accuracy' is not logged each epoch; choose one of val_auroc"),
])
def test_non_finite_and_unknown_config_values(bundle, tmp_path, override, needle):
    result = run("train", "--config", _config(tmp_path, bundle, bundle / "train.mat"), "--set", override)
    refused(result, "cfg.yaml", needle)
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_duplicate_and_empty_fasta_records(apps, tmp_path):
    fa = tmp_path / "dup.fa"
    fa.write_text(">a\nACGTACGT\n>b\nACGT\n>a desc\nGGGG\n")
    refused(run("predict", "--run", apps / "run", "--fasta", fa, "--out", tmp_path / "o.tsv"), fa, "'a'",
            "more than once")
    assert not (tmp_path / "o.tsv").exists()
    fa.write_text(">a\nACGTACGT\n>empty\n>c\nACGT\n")
    refused(run("predict", "--run", apps / "run", "--fasta", fa, "--out", tmp_path / "o.tsv"), fa, "line 3",
            "record empty has no sequence (0 bp)")


def test_n_bases_are_read_as_n_with_a_warning(apps, tmp_path):
    fa = tmp_path / "n.fa"
    fa.write_text(">clean\nACGTACGT\n>masked\nACGNNRYT\n")
    result = run("predict", "--run", apps / "run", "--fasta", fa, "--out", tmp_path / "o.tsv")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "1 record(s) hold N" in result.stderr and "masked" in result.stderr


def test_zero_length_bed_intervals_are_reported_and_skipped(apps, tmp_path):
    bed = tmp_path / "p.bed"
    bed.write_text("chr1\t100\t200\tok\nchr1\t300\t300\tempty\n")
    result = run("predict", "--run", apps / "run", "--bed", bed, "--genome", apps / "g.fa", "--out", tmp_path / "o.tsv")
    assert result.exit_code == 0, result.output
    assert f"{bed}:2: zero-length interval" in result.stderr
    rows = (tmp_path / "o.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows[1:]] == ["ok"]


# -- 4. full disks and unwritable output folders ------------------------------------------------------

def test_outputs_under_a_regular_file_are_refused_up_front(bundle, apps, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    result = run("train", "--config", _config(tmp_path, bundle, bundle / "train.mat"), "--run-dir", afile / "run")
    refused(result, afile / "run", f"{afile} is a file, not a folder")
    (tmp_path / "s.fa").write_text(">s1\nACGTACGT\n")
    result = run("predict", "--run", apps / "run", "--fasta", tmp_path / "s.fa", "--out", afile / "out" / "p.tsv")
    refused(result, afile / "out" / "p.tsv", "is a file, not a folder")
    refused(run("data", "synth", "--out", afile / "synth"), afile / "synth", "is a file, not a folder")
    result = run("eval", "--run", apps / "run", "--data", bundle / "test.mat", "--out", afile / "eval")
    refused(result, afile / "eval")


def test_unwritable_folder_is_refused_up_front(bundle, tmp_path):
    if not os.path.isdir("/proc/self") or os.access("/proc", os.W_OK) and _can_create_in("/proc"):
        pytest.skip("/proc is writable here")
    result = run("train", "--config", _config(tmp_path, bundle, bundle / "train.mat"), "--run-dir", "/proc/chromseq_run")
    refused(result, "/proc/chromseq_run", "cannot write here")


def _can_create_in(folder):
    try:
        fd = os.open(os.path.join(folder, ".chromseq_probe"), os.O_CREAT | os.O_WRONLY)
    except OSError:
        return False
    os.close(fd)
    os.unlink(os.path.join(folder, ".chromseq_probe"))
    return True


def test_full_disk_while_writing_names_the_output(apps, tmp_path, monkeypatch):
    import chromseq.apps.predict as predict_module

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")  # no file name, as from write()

    monkeypatch.setattr(predict_module, "write_predictions", full)
    (tmp_path / "s.fa").write_text(">s1\nACGTACGT\n")
    out = tmp_path / "preds.tsv"
    result = run("predict", "--run", apps / "run", "--fasta", tmp_path / "s.fa", "--out", out)
    assert refused(result) == f"error: {out}: no space left on device"


def test_summary_writer_errors_from_tensorflow_become_one_line(bundle, tmp_path, monkeypatch):
    import keras
    import tensorflow as tf

    board = tmp_path / "run" / "tensorboard" / "train"

    class FullDiskBoard(keras.callbacks.Callback):
        def __init__(self, *args, **kwargs):
            super().__init__()

        def on_train_begin(self, logs=None):
            raise tf.errors.ResourceExhaustedError(
                None, None, "{{function_node __wrapped__CreateSummaryFileWriter_device_/job:localhost/replica:0/"
                            "task:0/device:CPU:0}} " + f"{board}; No space left on device [Op:CreateSummaryFileWriter]")

    monkeypatch.setattr(keras.callbacks, "TensorBoard", FullDiskBoard)
    result = run("train", "--config", _config(tmp_path, bundle, bundle / "train.mat"))
    assert refused(result) == f"error: {board}: no space left on device"


def test_os_errors_of_hdf5_and_tensorflow_are_described_with_their_path():
    h5 = OSError(errno.EACCES, "Unable to synchronously create file (unable to open file: name = '/data/out.h5', "
                               "errno = 13, error message = 'Permission denied', flags = 13, o_flags = 242)")
    assert describe_os_error(h5) == "/data/out.h5: permission denied"
    ro = OSError(errno.EROFS, "Read-only file system", "/mnt/ro/x.npz")
    assert describe_os_error(ro) == "/mnt/ro/x.npz: permission denied (read-only file system)"

    class PermissionDeniedError(Exception):  # TensorFlow's, without importing it
        pass

    tf_error = PermissionDeniedError("runs/x/tensorboard/train; Permission denied [Op:CreateSummaryFileWriter]")
    assert describe_os_error(tf_error) == "runs/x/tensorboard/train: permission denied"
    assert describe_os_error(ValueError("a shape mismatch")) is None
    assert describe_os_error(MemoryError("OOM when allocating tensor")) is None


def test_write_mat_helpers_still_round_trip(tmp_path, arrays):
    x, y = arrays
    write_mat_v5(tmp_path / "v.mat", x[:5], y[:5], split="valid")
    xr, yr = open_dataset(tmp_path / "v.mat").load()
    np.testing.assert_array_equal(xr, x[:5])
    np.testing.assert_array_equal(yr, y[:5])
