import json

import h5py
import numpy as np
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data import open_dataset
from chromseq.data.encoding import reverse_complement
from chromseq.data.synth import builtin_motifs, generate


def test_generate_plants_motifs_and_reverse_complements():
    d = generate(400, length=300, n_features=40, seed=3)
    assert d.x.shape == (400, 300, 4) and d.y.shape == (400, 40)
    np.testing.assert_array_equal(d.x[200:], reverse_complement(d.x[:200], "AGCT"))
    np.testing.assert_array_equal(d.y[200:], d.y[:200])
    motifs = builtin_motifs()
    acgt = d.x[..., ["AGCT".index(b) for b in "ACGT"]].argmax(-1)
    for s, m, start, strand in list(zip(*(d.planted[k] for k in ("sample", "motif", "start", "strand"))))[:200]:
        w = motifs[m].width
        site = acgt[s, start:start + w]
        pwm = motifs[m].pwm if strand > 0 else motifs[m].pwm[::-1, ::-1]
        assert pwm[np.arange(w), site].mean() > 0.4  # the sampled site scores high on its PWM
    tf = [i for i, f in enumerate(d.features) if f.rule == "motif"]
    for f in tf[:10]:
        m = d.features[f].motifs[0]
        central = d.planted["center"] & (d.planted["motif"] == m)
        has = np.zeros(400, bool)
        has[d.planted["sample"][central]] = True
        assert not (d.y[:, f].astype(bool) & ~has).any()  # a TF feature fires only with its motif


def test_synth_cli_writes_real_layout(tmp_path):
    out = tmp_path / "synth"
    result = CliRunner().invoke(main, ["data", "synth", "--out", str(out), "--train", "200", "--valid", "40",
                                       "--test", "40", "--length", "250", "--features", "30"])
    assert result.exit_code == 0, result.output
    with h5py.File(out / "train.mat") as f:
        assert f["trainxdata"].shape == (250, 4, 200) and f["traindata"].shape == (30, 200)
    ds = open_dataset(out / "valid.mat")
    assert ds.n_samples == 40 and ds.feature_names is not None and len(ds.feature_names) == 30
    truth = json.loads((out / "truth.json").read_text())
    assert len(truth["motifs"]) == 24 and len(truth["features"]) == 30
    assert (out / "features.xlsx").exists() and np.load(out / "planted_test.npz")["start"].size
    inspect = CliRunner().invoke(main, ["data", "inspect", str(out / "train.mat")])
    assert inspect.exit_code == 0 and "sample axis last" in inspect.output and "AGCT" in inspect.output


def test_synth_with_jaspar_motifs(tmp_path, shared_data):
    out = tmp_path / "j"
    result = CliRunner().invoke(main, ["data", "synth", "--out", str(out), "--train", "100", "--valid", "20",
                                       "--test", "20", "--length", "300", "--features", "20",
                                       "--motifs", str(shared_data / "motifs" / "jaspar2024_core.transfac.gz")])
    assert result.exit_code == 0, result.output
    assert all(m["id"].startswith("MA") for m in json.loads((out / "truth.json").read_text())["motifs"])


def test_inspect_bad_file_is_one_line(tmp_path):
    (tmp_path / "x.mat").write_bytes(b"\x00" * 10)
    result = CliRunner().invoke(main, ["data", "inspect", str(tmp_path / "x.mat")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "error:" in result.output
