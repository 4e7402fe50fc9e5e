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


def test_report_header_annotations_and_interpretation(run, tmp_path):
    import shutil

    from chromseq.data.motifs import Motif
    from chromseq.interpret.motif_match import Match, write_matches
    from chromseq.plots.logos import plot_logos

    r = tmp_path / "run"
    shutil.copytree(run / "run", r)
    assert CliRunner().invoke(main, ["report", "--run", str(r)]).exit_code == 0
    html = (r / "report.html").read_text()
    assert "Interpretation" not in html  # nothing interpreted yet: no empty section
    # the header: sizes from dataset.json and the evaluation, training time from history.csv
    history = [line.split(",") for line in (r / "history.csv").read_text().splitlines()]
    seconds = sum(float(row[history[0].index("epoch_seconds")]) for row in history[1:])
    assert "<b>train</b> 256 samples" in html and "<b>valid</b> 128 samples" in html
    assert "<b>L</b> 120 bp" in html and "<b>K</b> 10 features" in html
    assert f"2 epochs, {seconds / 60:.1f} min" in html
    info = json.loads((r / "dataset.json").read_text())
    (r / "dataset.json").write_text(json.dumps({k: v for k, v in info.items() if k not in ("n_train", "n_valid")}))
    assert CliRunner().invoke(main, ["report", "--run", str(r)]).exit_code == 0  # older runs: sizes from the files
    assert "<b>train</b> 256 samples" in (r / "report.html").read_text()
    # DeepSEA's 'None' treatment shows as an empty cell, never the string
    assert "<td>None</td>" not in html and "|None" in (r / "features.tsv").read_text()

    filters = r / "interpret" / "filters"
    filters.mkdir(parents=True)
    gata = Motif("filter3", "filter3", np.eye(4)[[2, 0, 3, 0]])
    plot_logos([gata], filters / "filter_logos.png")
    matches = [[Match("filter3", "MA0035.5", "Gata1", 1, 2.5e-9, 5.9e-6, 1.2e-6, 1, "-", 4, "GATA", "GATA"),
                Match("filter3", "MA0036.4", "GATA2", 2, 3e-5, 0.07, 0.02, 0, "+", 4, "GATA", "GATA")],
               [Match("filter7", "MA0139.2", "CTCF", 1, 0.2, 469.0, 0.9, 0, "+", 6, "CCGCGG", "CCGCGG")]]
    write_matches(filters / "matches.tsv", matches, {"sites": [40, 3], "information_bits": ["8.00", "1.50"]})
    attributions = r / "interpret" / "attributions"
    attributions.mkdir()
    shutil.copy(filters / "filter_logos.png", attributions / "attributions_5.png")
    modisco = r / "interpret" / "modisco"
    modisco.mkdir()
    (modisco / "motifs.tsv").write_text("pattern\tn_seqlets\trank\ttarget_name\tq_value\n"
                                        "pos_patterns.pattern_0\t212\t1\tGata1\t3.1e-07\n"
                                        "pos_patterns.pattern_0\t212\t2\tTrps1\t0.004\n"
                                        "pos_patterns.pattern_1\t37\t\t\t\n")  # no match
    shutil.copy(filters / "filter_logos.png", modisco / "pos_patterns.pattern_0.png")
    assert CliRunner().invoke(main, ["report", "--run", str(r)]).exit_code == 0
    html = (r / "report.html").read_text()
    section = html[html.index("<h2>Interpretation</h2>"):]
    assert "2 filters matched" in section and "1 have a best match with q &lt; 0.05" in section
    best = section[section.index("id='filter_matches'"):section.index("</table>")]
    # best matches only (rank 1), smallest p first; the rank-2 GATA2 line stays in the file
    assert best.index("Gata1") < best.index("CTCF") and "GATA2" not in best
    assert "<td>2.5e-09</td>" in best and "<td>1.2e-06</td>" in best and "<td>40</td>" in best
    assert "attributions_5.png" in section and "pos_patterns.pattern_0" in section and "<td>212</td>" in section
    assert "Trps1" not in section and "<td>37</td>" in section  # best match only; unmatched patterns kept
    assert section.count("<img") == 3


def test_pr_curves_draw_each_features_prevalence():
    from chromseq.plots.curves import plot_roc_pr

    y = np.zeros((40, 2), np.uint8)
    y[:4, 0] = 1
    y[:10, 1] = 1
    p = np.linspace(0, 1, 80).reshape(40, 2)
    rows = [{"name": f"f{j}", "feature_class": "TF", "auroc": 0.5, "auprc": 0.2} for j in range(2)]
    fig = plot_roc_pr(y, p, rows, [0, 1])
    pr = fig.axes[1]
    flat = [line.get_ydata() for line in pr.lines if len(line.get_ydata()) == 2 and line.get_ydata()[0] ==
            line.get_ydata()[1]]
    assert sorted(float(f[0]) for f in flat) == [0.1, 0.25]
    assert any("prevalence" in t.get_text() for t in pr.get_legend().get_texts())


def test_feature_maps_draw_block_means_in_feature_units(tmp_path):
    from chromseq.plots.feature_maps import plot_feature_map, plot_map_evolution

    rng = np.random.default_rng(0)
    y = (rng.random((1000, 919)) < 0.07).astype(np.uint8)
    classes = ["DNase"] * 125 + ["TF"] * 690 + ["histone"] * 104
    fig = plot_feature_map(y, tmp_path / "labels.png", classes=classes, kind="labels", rows=np.arange(0, 1000, 2))
    ax = fig.axes[0]
    drawn = np.asarray(ax.images[0].get_array())
    shown = np.arange(0, 1000, 2)[np.linspace(0, 499, 100).round().astype(int)]  # 100 rows, evenly spread
    blocks = np.pad(y[shown].astype(float), ((0, 0), (0, 5)), constant_values=np.nan).reshape(100, 154, 6)
    np.testing.assert_array_equal(drawn, np.nanmean(blocks, axis=2))  # 919 features -> 154 blocks of 6
    assert ax.get_xlim() == (-0.5, 918.5) and [line.get_xdata()[0] for line in ax.lines] == [124.5, 814.5]
    assert "100 of 1000" in ax.get_ylabel() and (tmp_path / "labels.png").stat().st_size < 200_000
    small = plot_feature_map(y[:20, :30], kind="labels")  # small maps: every cell, binary colours
    assert np.asarray(small.axes[0].images[0].get_array()).shape == (20, 30)
    snaps = [{"epoch": e, "y_pred": rng.random((200, 919)), "y_true": y[:200]} for e in range(3)]
    fig = plot_map_evolution(snaps)
    assert [np.asarray(a.images[0].get_array()).shape for a in fig.axes[:4]] == [(60, 49)] * 4  # blocks of 19
