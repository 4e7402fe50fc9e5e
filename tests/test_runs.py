"""The Run object: opening a run directory, data fitted to its model, the paths of its outputs."""

import numpy as np
import pytest
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data.encoding import one_hot
from chromseq.errors import ChromseqError
from chromseq.runs import Evaluation, Run, RunInfo, write_run_info


def _run(tmp_path, seq_len=10, alphabet="AGCT", **extra):
    run = tmp_path / "run"
    run.mkdir()
    write_run_info(run, RunInfo(path=run, alphabet=alphabet, seq_len=seq_len, n_features=2, extra=extra))
    return run


def test_opening_what_is_not_a_run_is_one_line(tmp_path):
    with pytest.raises(ChromseqError, match="run directory not found") as missing:
        Run.open(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ChromseqError, match="not a chromseq run directory") as empty:
        Run.open(tmp_path / "empty")
    assert "\n" not in str(missing.value) and "\n" not in str(empty.value)
    result = CliRunner().invoke(main, ["report", "--run", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'empty'}: not a chromseq run directory "
                                                  "(none of model.keras, checkpoints, dataset.json, config.yaml, eval)"]


def test_fitted_data_is_center_cropped_and_in_the_run_alphabet(tmp_path):
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 16)) for _ in range(5)]
    y = rng.integers(0, 2, (5, 2)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", x=one_hot(seqs, "ACGT"), y=y, alphabet="ACGT")
    run = Run.open(_run(tmp_path, seq_len=10, alphabet="AGCT"))
    with run.fit_data(tmp_path / "d.npz") as ds:
        x, labels = ds.load()
        assert ds.crop == 10 and ds.crop_offset == 3 and len(ds) == 5
        blocks = [b for _, b, _ in ds.iter_blocks(2)]
    np.testing.assert_array_equal(x, one_hot([s[3:13] for s in seqs], "AGCT"))
    np.testing.assert_array_equal(np.concatenate(blocks), x)
    np.testing.assert_array_equal(labels, y)


def test_fitted_data_refuses_sequences_shorter_than_the_model(tmp_path):
    np.savez(tmp_path / "d.npz", x=one_hot(["ACGTACGT"], "ACGT"), y=np.zeros((1, 2), np.uint8), alphabet="ACGT")
    run = Run.open(_run(tmp_path, seq_len=10))
    with pytest.raises(ChromseqError, match="sequences of 8 bp, shorter than the model's 10 bp"):
        run.fit_data(tmp_path / "d.npz")


def test_output_paths_and_the_latest_evaluation(tmp_path):
    import os

    path = _run(tmp_path, valid="data/valid.mat")
    run = Run.open(path)
    assert run.plots_dir == path / "plots" and run.report_file == path / "report.html"
    assert run.interpret_dir("saliency") == path / "interpret" / "saliency"
    assert run.evaluation_for("data/synth/valid.mat") == Evaluation(path / "eval" / "valid")
    assert run.evaluation() is None and run.info.extra["valid"] == "data/valid.mat"
    for i, name in enumerate(("b", "a")):
        e = run.evaluation_for(f"{name}.mat")
        e.dir.mkdir(parents=True)
        e.predictions_file.write_bytes(b"")
        os.utime(e.predictions_file, (1000 + i, 1000 + i))
    assert run.evaluation() == Evaluation(path / "eval" / "a")  # the newest
    test = run.evaluation_for("test.mat")
    test.dir.mkdir()
    test.predictions_file.write_bytes(b"")
    os.utime(test.predictions_file, (10, 10))
    assert run.evaluation() == test  # eval/test before any newer one
    assert run.evaluation("b").table == path / "eval" / "b" / "performance.tsv"
    assert run.evaluation("missing") is None


def test_features_of_a_run_without_a_table_are_numbered(tmp_path):
    run = Run.open(_run(tmp_path))
    assert run.feature_table(3).names == ["feature_0", "feature_1", "feature_2"]
    (run.features_file).write_text("name\tcell_type\telement\ttreatment\tclass\nA|CTCF|None\tA\tCTCF\tNone\tTF\n"
                                   "B|DNase|None\tB\tDNase\tNone\tDNase\n")
    assert list(run.feature_table(2).select("DNase")) == [1]
