import h5py
from apps_helpers import MOTIF, motif_run, random_genome
from click.testing import CliRunner

from chromseq.cli import main
from chromseq.data.windows import center_window


def test_center_window():
    assert center_window("ACGTACGT", 4) == ("GTAC", "cropped")
    assert center_window("AC", 5) == ("NACNN", "padded")
    assert center_window("ACG", 3) == ("ACG", "exact")


def test_predict_fasta_bed_and_errors(tmp_path):
    run = motif_run(tmp_path / "run")
    fa = tmp_path / "s.fa"
    fa.write_text(f">hit\n{'C' * 40}{MOTIF}{'C' * 51}\n>short\n{MOTIF}\n>none\n{'A' * 300}\n")
    out = tmp_path / "p.tsv"
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--fasta", str(fa), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [r.split("\t") for r in out.read_text().splitlines()]
    assert rows[0] == ["name", "window", "K562|GATA1|None"]
    got = {r[0]: (r[1], float(r[2])) for r in rows[1:]}
    assert got["hit"][1] > 0.99 and got["short"][1] > 0.99 and got["none"][1] < 0.01
    assert got["short"][0].startswith("padded") and got["none"][0].startswith("cropped")

    random_genome(tmp_path / "g.fa", {"chr1": 2000}, {"chr1": 700})
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t650\t760\tpeak\nchr1\t1500\t1600\tempty\nchr1\t50\t10\tbad\nchr9\t1\t5\tmissing\n"
                   "1\t1990\t2000\tedge\n")
    h5 = tmp_path / "p.h5"
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--bed", str(bed), "--genome",
                                       str(tmp_path / "g.fa"), "--out", str(h5), "--rc-average"])
    assert result.exit_code == 0, result.output
    assert "end 10 < start 50" in result.output and "chr9" in result.output and "2 skipped" in result.output
    with h5py.File(h5) as f:
        names = [n.decode() for n in f["names"]]
        p = f["predictions"][:, 0]
        assert names == ["peak", "empty", "edge"] and p[0] > 0.99 and p[1] < 0.01
        assert b"N-padded" in f["notes"][2]
    bad = CliRunner().invoke(main, ["predict", "--run", str(run), "--bed", str(bed), "--out", str(h5)])
    assert bad.exit_code == 2 and "--genome" in bad.output


def test_predict_real_inputs(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("CHROMSEQ_CACHE", str(tmp_path / "cache"))
    run = motif_run(tmp_path / "run", seq_len=1000)
    out = tmp_path / "example.tsv"
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--data",
                                       str(shared_data / "deepsea" / "danq_example.h5"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 9
    bed = tmp_path / "ecoli.bed"
    bed.write_text("NC_000913.3\t0\t200\tthrL\nNC_000913.3\t4641000\t4641652\tend\n")
    result = CliRunner().invoke(main, ["predict", "--run", str(run), "--bed", str(bed), "--genome",
                                       str(shared_data / "ecoli" / "GCF_000005845.2_ASM584v2_genomic.fna.gz"),
                                       "--out", str(tmp_path / "e.tsv")])
    assert result.exit_code == 0, result.output
    values = [float(r.split("\t")[2]) for r in (tmp_path / "e.tsv").read_text().splitlines()[1:]]
    assert len(values) == 2 and all(0 <= v <= 1 for v in values)
