"""eval, plot-features and report on a small trained run."""

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data import write_mat_v5
from chromseq.data.synth import write_bundle
from chromseq.evaluation.tables import read_published_aucs


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    write_bundle(root / "b", n_train=256, n_valid=128, n_test=300, length=120, n_features=10, seed=0)
    cfg = {"name": "e", "run_dir": str(root / "run"),
           "model": {"name": "demo_cnn", "params": {"filters": 8, "widths": [9, 3]}},
           "data": {"train": str(root / "b" / "train.mat"), "valid": str(root / "b" / "valid.mat")},
           "train": {"epochs": 2, "batch_size": 64, "verbose": 0}}
    (root / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    assert CliRunner().invoke(main, ["train", "--config", str(root / "cfg.yaml")]).exit_code == 0
    return root


def test_eval_table_summary_and_na(run):
    result = CliRunner().invoke(main, ["eval", "--run", str(run / "run"), "--data", str(run / "b" / "test.mat"),
                                       "--min-positives", "20", "--rc-average"])
    assert result.exit_code == 0, result.output
    out = run / "run" / "eval" / "test"
    header, *rows = [r.split("\t") for r in (out / "performance.tsv").read_text().splitlines()]
    assert header[:6] == ["index", "name", "cell_type", "element", "treatment", "feature_class"]
    assert len(rows) == 10 and {"DNase", "TF", "histone"} <= {r[5] for r in rows}
    col = header.index("auroc")
    for r in rows:
        positives = int(r[header.index("positives")])
        assert (r[col] == "NA") == (positives < 20 or positives == 300)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["classes"]) >= {"all", "TF"} and "median_auroc" in summary["classes"]["all"]
    pred = np.load(out / "predictions.npz")
    assert pred["y_pred"].shape == (300, 10) and pred["y_true"].dtype == np.uint8
    assert "med AUROC" in result.output and "best features" in result.output


def test_eval_bad_inputs(run, tmp_path):
    x = np.eye(4, dtype=np.uint8)[np.zeros((5, 120), int)]
    write_mat_v5(tmp_path / "wrong.mat", x, np.zeros((5, 3), np.uint8), split="test")
    result = CliRunner().invoke(main, ["eval", "--run", str(run / "run"), "--data", str(tmp_path / "wrong.mat")])
    assert result.exit_code == 2 and "3 features, but the model" in result.output
    result = CliRunner().invoke(main, ["eval", "--run", str(tmp_path / "norun"), "--data", str(tmp_path / "wrong.mat")])
    assert result.exit_code == 2 and "not found" in result.output
    (tmp_path / "ann.tsv").write_text("name\tcell_type\telement\na\tb\tc\n")
    result = CliRunner().invoke(main, ["eval", "--run", str(run / "run"), "--data", str(run / "b" / "test.mat"),
                                       "--annotations", str(tmp_path / "ann.tsv")])
    assert result.exit_code == 2 and "1 rows but the data has 10 features" in result.output


def test_published_aucs_file(shared_data):
    pub = read_published_aucs(shared_data / "deepsea" / "danq_aucs.txt", 919)
    assert np.isnan(pub["deepsea_auroc"][598]) and np.nanmean(pub["deepsea_auroc"]) == pytest.approx(0.9326, abs=1e-3)
    with pytest.raises(Exception, match="919 rows"):
        read_published_aucs(shared_data / "deepsea" / "danq_aucs.txt", 10)


def test_plot_features_and_report(run):
    result = CliRunner().invoke(main, ["plot-features", "--run", str(run / "run"), "--feature", "0"])
    assert result.exit_code == 0, result.output
    plots = run / "run" / "plots"
    for name in ("input_barcodes", "prediction_evolution", "training_curves", "labels_map", "predicted_map",
                 "difference_map", "roc_pr_curves", "auroc_by_class"):
        assert (plots / f"{name}.png").stat().st_size > 15_000, name
    result = CliRunner().invoke(main, ["report", "--run", str(run / "run")])
    assert result.exit_code == 0, result.output
    html = (run / "run" / "report.html").read_text()
    assert html.count("<img") >= 8 and "id='features'" in html and "sortTable" in html and "median_auroc" in html
