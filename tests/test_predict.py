"""chromseq predict on toy runs with hand-set weights: every prediction checked against NumPy.

``linear_run`` outputs an exact fingerprint (a sum of multiples of 1/4) of the window it was
given, so equality with the NumPy twin on the window built here by hand proves the centering,
N padding, cropping, alphabet and reverse-complement handling; the motif run checks the
probabilities (to PROB_ATOL, a float32 sigmoid) on FASTA, BED and real inputs.
"""

import gzip

import h5py
import numpy as np
from apps_helpers import MOTIF, linear_run, motif_run, random_genome
from click.testing import CliRunner
from toy_models import PROB_ATOL, dyadic, flatten_dense, onehot, revcomp, sigmoid

from chromseq.apps.predict import RunModel, predict_fasta
from chromseq.cli import main
from chromseq.data.windows import center_window
from chromseq.inference import predict_batches


def test_center_window():
    assert center_window("ACGTACGT", 4) == ("GTAC", "cropped")
    assert center_window("AC", 5) == ("NACNN", "padded")
    assert center_window("ACG", 3) == ("ACG", "exact")


def _tsv(path):
    rows = [r.split("\t") for r in path.read_text().splitlines()]
    return rows[0], {r[0]: (r[1], np.array([float(v) for v in r[2:]])) for r in rows[1:]}


def test_predict_batches_is_the_model_on_every_row_and_pads_the_last_batch():
    rng = np.random.default_rng(3)
    toy = flatten_dense(dyadic(rng, (9, 4, 3)), dyadic(rng, 3), use_sigmoid=False)
    x = np.eye(4)[rng.integers(0, 4, (11, 9))]
    x[2, 4] = 0  # an N
    expected = toy.outputs(x).astype(np.float32)  # exact: multiples of 1/4
    for batch_size in (1, 4, 11, 64):
        np.testing.assert_array_equal(predict_batches(toy.model, x, batch_size=batch_size), expected)
    rc = x[:, ::-1][:, :, [3, 2, 1, 0]]  # AGCT: A<->T, G<->C
    np.testing.assert_array_equal(predict_batches(toy.model, x, batch_size=4, rc_average=True, alphabet="AGCT"),
                                  (0.5 * (toy.outputs(x) + toy.outputs(rc))).astype(np.float32))
    assert predict_batches(toy.model, x[:0]).shape == (0, 3)


def test_fasta_windows_are_centered_padded_and_cropped_exactly(tmp_path):
    length = 12
    toy = linear_run(tmp_path / "run", length, n_features=3, alphabet="ACGT")  # not DeepSEA's AGCT
    records = {"exact": "ACGTTGCAACGG", "short_odd": "GATTACA", "short_even": "GGCCAT",
               "long": "GG" + "ACGTTTGCAACC" + "TTT", "with_n": "ACGTNNACGTAC", "lower": "acgtacgtacgt"}
    windows = {"exact": "ACGTTGCAACGG", "short_odd": "NNGATTACANNN", "short_even": "NNNGGCCATNNN",
               "long": "ACGTTTGCAACC", "with_n": "ACGTNNACGTAC", "lower": "ACGTACGTACGT"}  # by hand
    fa = tmp_path / "s.fa"
    fa.write_text("".join(f">{name}\n{seq}\n" for name, seq in records.items()))
    for rc_average in (False, True):
        out = tmp_path / f"p{rc_average}.tsv"
        args = ["predict", "--run", str(tmp_path / "run"), "--fasta", str(fa), "--out", str(out)]
        result = CliRunner().invoke(main, args + (["--rc-average"] if rc_average else []))
        assert result.exit_code == 0, result.output
        header, got = _tsv(out)
        assert header == ["name", "window", "C0|F0|None", "C1|F1|None", "C2|F2|None"]
        assert list(got) == list(records)
        for name, window in windows.items():
            expected = toy.outputs(onehot([window], "ACGT"))[0]
            if rc_average:
                expected = 0.5 * (expected + toy.outputs(onehot([revcomp(window)], "ACGT"))[0])
            np.testing.assert_array_equal(got[name][1], expected, err_msg=name)  # %.5g prints these exactly
        assert got["short_odd"][0] == "padded from 7 bp" and got["long"][0] == "cropped from 17 bp"
        assert got["exact"][0] == "exact"
    one = predict_fasta(RunModel.load(tmp_path / "run"), fa, batch_size=2, chunk=4)  # chunks and batches
    np.testing.assert_array_equal(one.matrix(3), np.stack([toy.outputs(onehot([w], "ACGT"))[0]
                                                           for w in windows.values()]).astype(np.float32))


def test_predict_fasta_bed_and_errors(tmp_path):
    toy = motif_run(tmp_path / "run")
    run = tmp_path / "run"
    fa = tmp_path / "s.fa"
    fa.write_text(f">hit\n{'C' * 40}{MOTIF}{'C' * 51}\n>short\n{MOTIF}\n>none\n{'A' * 300}\n"
                  f">both\n{'C' * 20}{MOTIF}{'C' * 20}{revcomp(MOTIF)}{'C' * 41}\n")
    out = tmp_path / "p.tsv"
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--fasta", str(fa), "--out", str(out)])
    assert result.exit_code == 0, result.output
    header, got = _tsv(out)
    assert header == ["name", "window", "K562|GATA1|None"]
    expected = {"hit": sigmoid(5), "short": sigmoid(5), "none": sigmoid(-5), "both": sigmoid(15)}
    for name, p in expected.items():  # the TSV keeps 5 significant digits: relative error <= 5e-5
        np.testing.assert_allclose(got[name][1], [p], rtol=5e-5, atol=0, err_msg=name)
    assert got["short"][0].startswith("padded") and got["none"][0].startswith("cropped")

    seqs = random_genome(tmp_path / "g.fa", {"chr1": 2000}, {"chr1": 700})
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t650\t760\tpeak\nchr1\t1500\t1600\tempty\nchr1\t50\t10\tbad\nchr9\t1\t5\tmissing\n"
                   "1\t1990\t2000\tedge\n")
    h5 = tmp_path / "p.h5"
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--bed", str(bed), "--genome",
                                       str(tmp_path / "g.fa"), "--out", str(h5), "--rc-average"])
    assert result.exit_code == 0, result.output
    assert "end 10 < start 50" in result.output and "chr9" in result.output and "2 skipped" in result.output
    g = "N" * 100 + seqs["chr1"] + "N" * 100
    windows = [g[705 - 50 + 100:705 + 51 + 100], g[1550 - 50 + 100:1550 + 51 + 100], g[1995 - 50 + 100:1995 + 51 + 100]]
    assert MOTIF in windows[0] and windows[2].endswith("N" * 46)
    x = onehot(windows)
    expected = 0.5 * (toy.outputs(x) + toy.outputs(onehot([revcomp(w) for w in windows])))
    with h5py.File(h5) as f:
        names = [n.decode() for n in f["names"]]
        assert names == ["peak", "empty", "edge"]
        np.testing.assert_allclose(f["predictions"][:], expected, rtol=0, atol=PROB_ATOL)
        np.testing.assert_allclose(f["predictions"][:, 0], [sigmoid(5), sigmoid(-5), sigmoid(-5)], rtol=0,
                                   atol=PROB_ATOL)
        assert f["notes"][0] == b"chr1:655-756" and b"N-padded" in f["notes"][2]
    bad = CliRunner().invoke(main, ["predict", "--run", str(run), "--bed", str(bed), "--out", str(h5)])
    assert bad.exit_code == 2 and "--genome" in bad.output


def test_predict_onehot_file_crops_and_converts_the_alphabet(tmp_path):
    length = 10
    toy = linear_run(tmp_path / "run", length, n_features=2, alphabet="ACGT")
    rng = np.random.default_rng(5)
    seqs = ["".join(rng.choice(list("ACGT"), length + 6)) for _ in range(5)]
    with h5py.File(tmp_path / "x.h5", "w") as f:  # 16-bp one-hot in DeepSEA's AGCT order, (N, 4, L)
        f["x"] = onehot(seqs, "AGCT").transpose(0, 2, 1).astype(np.uint8)
        f.attrs["alphabet"] = "AGCT"
    out = tmp_path / "p.h5"
    result = CliRunner().invoke(main, ["predict", "--run", str(tmp_path / "run"), "--data", str(tmp_path / "x.h5"),
                                       "--out", str(out), "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["predictions"][:], toy.outputs(onehot([s[3:13] for s in seqs], "ACGT")))
        assert [n.decode() for n in f["names"]] == [f"x.h5:{i}" for i in range(5)]


def _read_gz_fasta(path):
    seqs, name = {}, None
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            else:
                seqs[name].append(line.strip().upper())
    return {k: "".join(v) for k, v in seqs.items()}


def test_predict_real_inputs(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CHROMSEQ_CACHE", str(tmp_path / "cache"))
    toy = linear_run(tmp_path / "run", 1000, n_features=2)
    run = tmp_path / "run"
    out = tmp_path / "example.h5"
    example = shared_data / "deepsea" / "danq_example.h5"
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--data", str(example), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with h5py.File(example) as f:
        x = f["testxdata"][:].transpose(0, 2, 1)  # (N, 4, L) -> (N, L, 4), AGCT like the run
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["predictions"][:], toy.outputs(x))

    genome = shared_data / "ecoli" / "GCF_000005845.2_ASM584v2_genomic.fna.gz"
    bed = tmp_path / "ecoli.bed"
    bed.write_text("NC_000913.3\t0\t200\tthrL\nNC_000913.3\t4641000\t4641652\tend\n")
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--bed", str(bed), "--genome", str(genome),
                                       "--out", str(tmp_path / "e.h5")])
    assert result.exit_code == 0, result.output
    chrom = _read_gz_fasta(genome)["NC_000913.3"]
    assert len(chrom) == 4641652
    windows = ["N" * 400 + chrom[:600], chrom[4641326 - 500:] + "N" * 174]  # centers 100 and 4641326
    with h5py.File(tmp_path / "e.h5") as f:
        np.testing.assert_array_equal(f["predictions"][:], toy.outputs(onehot(windows)))
