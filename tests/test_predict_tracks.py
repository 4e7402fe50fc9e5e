"""predict's output formats: CSV, BED, bedGraph and bigWig over tiled regions, unique feature names.

``linear_run`` outputs an exact fingerprint (multiples of 1/4) of each window, so every value
read back from a track equals the NumPy twin on the window built here by hand.
"""

import csv

import numpy as np
import pytest
from apps_helpers import linear_run, save_run
from click.testing import CliRunner
from toy_models import dyadic, flatten_dense, onehot

from chromseq.apps.predict import RunModel, tile_interval, unique_feature_names
from chromseq.cli import main

pyBigWig = pytest.importorskip("pyBigWig", reason="pyBigWig reads the written bigWig back")

L, STEP = 30, 10


def _setup(tmp_path):
    rng = np.random.default_rng(4)
    seqs = {"chr1": "".join(rng.choice(list("ACGT"), 120)), "chr2": "".join(rng.choice(list("ACGT"), 40))}
    (tmp_path / "g.fa").write_text("".join(f">{k}\n{v}\n" for k, v in seqs.items()))
    # regions out of order, one in '2' naming, one past the contig end (clipped to 40)
    (tmp_path / "r.bed").write_text("chr1\t90\t115\tb\n2\t25\t60\tc\nchr1\t20\t50\ta\n")
    toy = linear_run(tmp_path / "run", L, n_features=2)
    return toy, seqs


def _expected_bins(toy, seqs):
    """(contig, start, end, outputs) per bin, in genome order, by hand."""
    rows = []
    for contig, start, end in (("chr1", 20, 50), ("chr1", 90, 115), ("chr2", 25, 40)):
        for a in range(start, end, STEP):
            b = min(a + STEP, end)
            center = (a + b) // 2
            padded = "N" * L + seqs[contig] + "N" * L
            window = padded[center - L // 2 + L: center - L // 2 + 2 * L]
            rows.append((contig, a, b, toy.outputs(onehot([window]))[0]))
    return rows


def test_tile_interval():
    assert tile_interval(20, 50, 10) == [(20, 30), (30, 40), (40, 50)]
    assert tile_interval(90, 115, 10) == [(90, 100), (100, 110), (110, 115)]


def _predict(tmp_path, out, *extra):
    args = ["predict", "--run", str(tmp_path / "run"), "--bed", str(tmp_path / "r.bed"), "--genome",
            str(tmp_path / "g.fa"), "--tile", str(STEP), "--out", str(out), *extra]
    return CliRunner().invoke(main, args)


def test_tiled_bigwig_reads_back_exactly(tmp_path):
    toy, seqs = _setup(tmp_path)
    expected = _expected_bins(toy, seqs)
    result = _predict(tmp_path, tmp_path / "t.bw")
    assert result.exit_code == 0, result.output
    assert "8 bins x 2 features -> 2 bigwig files" in result.output
    for j, name in enumerate(["t.0_C0_F0_None.bw", "t.1_C1_F1_None.bw"]):
        bw = pyBigWig.open(str(tmp_path / name))
        assert bw.chroms() == {"chr1": 120, "chr2": 40}  # sizes from the genome's index
        got = [(c, *iv) for c in ("chr1", "chr2") for iv in (bw.intervals(c) or [])]
        bw.close()
        assert [g[:3] for g in got] == [e[:3] for e in expected]
        np.testing.assert_array_equal([g[3] for g in got], np.float32([e[3][j] for e in expected]))
    one = tmp_path / "one.bigwig"
    assert _predict(tmp_path, one, "--features", "1").exit_code == 0  # one feature: --out itself
    bw = pyBigWig.open(str(one))
    assert bw.intervals("chr1", 30, 40) == ((30, 40, float(np.float32(expected[1][3][1]))),)
    bw.close()


def test_bed_bedgraph_and_csv_outputs(tmp_path):
    toy, seqs = _setup(tmp_path)
    expected = _expected_bins(toy, seqs)
    assert _predict(tmp_path, tmp_path / "t.bedgraph", "--features", "0").exit_code == 0
    lines = (tmp_path / "t.bedgraph").read_text().splitlines()
    assert lines[0].startswith("track type=bedGraph")
    rows = [line.split("\t") for line in lines[1:]]
    assert [(r[0], int(r[1]), int(r[2])) for r in rows] == [e[:3] for e in expected]
    assert [float(r[3]) for r in rows] == [e[3][0] for e in expected]  # %.5g prints these exactly

    assert _predict(tmp_path, tmp_path / "t.txt", "--format", "bed").exit_code == 0  # --format wins
    rows = [line.split("\t") for line in (tmp_path / "t.txt").read_text().splitlines()]
    assert rows[0] == ["#chrom", "start", "end", "name", "C0|F0|None", "C1|F1|None"]
    assert rows[1][:4] == ["chr1", "90", "100", "chr1:90-100"]  # input order, the genome's names
    by_span = {(r[0], int(r[1]), int(r[2])): [float(v) for v in r[4:]] for r in rows[1:]}
    for contig, a, b, values in expected:
        assert by_span[(contig, a, b)] == list(values)

    assert _predict(tmp_path, tmp_path / "t.csv").exit_code == 0
    with open(tmp_path / "t.csv", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["name", "window", "C0|F0|None", "C1|F1|None"] and len(table) == 9
    assert table[1][1] == "chr1:80-110"  # the window of bin chr1:90-100 (center 95)


def test_track_outputs_are_refused_without_coordinates_or_with_overlaps(tmp_path):
    _setup(tmp_path)
    run = str(tmp_path / "run")
    (tmp_path / "s.fa").write_text(">s\nACGT\n")
    cases = [
        (["--fasta", str(tmp_path / "s.fa"), "--out", str(tmp_path / "x.bw")], "needs genome coordinates"),
        (["--fasta", str(tmp_path / "s.fa"), "--out", str(tmp_path / "x.parquet")],
         "unknown output format '.parquet'"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, ["predict", "--run", run, *args])
        assert result.exit_code == 2 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(main, ["predict", "--run", run, "--fasta", str(tmp_path / "s.fa"), "--tile", "5",
                                       "--out", str(tmp_path / "x.tsv")])
    assert result.exit_code == 2 and "--tile" in result.output
    (tmp_path / "r.bed").write_text("chr1\t20\t50\ta\nchr1\t45\t60\tb\n")
    result = _predict(tmp_path, tmp_path / "o.bw", "--features", "0")
    assert result.exit_code == 2 and "overlap" in result.output and not (tmp_path / "o.bw").exists()


def test_repeated_feature_names_get_their_index(tmp_path, shared_data):
    names = [line.rstrip("\n") for line in (shared_data / "deepsea" / "deepsea_predictor.names").open()]
    assert len(names) == 919 and len(set(names)) < 919
    unique = unique_feature_names(names, np.arange(919))
    assert len(set(unique)) == 919 and unique[5] == f"5:{names[5]}"
    assert unique_feature_names(names, np.array([0, 1])) == names[:2]  # no repeat among these: plain
    rng = np.random.default_rng(2)
    save_run(flatten_dense(dyadic(rng, (4, 4, 919)), dyadic(rng, 919), use_sigmoid=False), tmp_path / "run", 4,
             names=names)
    run_names = RunModel.load(tmp_path / "run").feature_names  # non-breaking spaces read as spaces
    run_unique = unique_feature_names(run_names, np.arange(919))
    assert len(set(run_unique)) == 919 and run_unique[0] == f"0:{names[0]}"
    (tmp_path / "s.fa").write_text(">s\nACGT\n")
    for out in ("p.tsv", "p.csv"):
        result = CliRunner().invoke(main, ["predict", "--run", str(tmp_path / "run"), "--fasta", str(tmp_path / "s.fa"),
                                           "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        with open(tmp_path / out, newline="") as fh:
            header = next(csv.reader(fh, delimiter="\t" if out.endswith("tsv") else ","))
        assert header[2:] == run_unique
