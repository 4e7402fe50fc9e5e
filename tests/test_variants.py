import h5py
import numpy as np
from apps_helpers import motif_run, random_genome
from click.testing import CliRunner

from chromseq.apps.predict import RunModel
from chromseq.apps.variants import score_variants
from chromseq.cli import main

VCF_HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def _setup(tmp_path):
    seqs = random_genome(tmp_path / "g.fa", {"1": 3000, "2": 500}, {"1": 1000})
    run = motif_run(tmp_path / "run")
    g1 = seqs["1"]
    center = 1000 + 4  # 0-based index of the motif's 5th base (A of GATAAGG)
    lines = [
        ("chr1", center + 1, "destroy", g1[center], "C" if g1[center] != "C" else "T"),   # inside the motif
        ("chr1", 2500, "far", g1[2499], "G" if g1[2499] != "G" else "T"),                # far from it
        ("1", 1200, "mismatch", "N" if False else ("A" if g1[1199] != "A" else "C"), "G"),
        ("1", 1300, "indel", g1[1299], g1[1299] + "AT"),
        ("1", 1400, "multi", g1[1399], ",".join(b for b in "ACGT" if b != g1[1399])[:3]),
        ("chrX", 10, "nocontig", "A", "C"),
        ("2", 900, "beyond", "A", "C"),
    ]
    vcf = tmp_path / "v.vcf"
    vcf.write_text(VCF_HEAD + "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t.\n" for c, p, i, r, a in lines))
    return run, vcf, tmp_path / "g.fa"


def test_destroying_the_motif_gives_a_large_negative_diff(tmp_path):
    run, vcf, genome = _setup(tmp_path)
    scored = score_variants(RunModel.load(run), vcf, genome)
    s = scored.scores(1)
    by_id = {v.id: i for i, v in enumerate(scored.variants)}
    assert s["diff"][by_id["destroy"], 0] < -0.9
    assert abs(s["diff"][by_id["far"], 0]) < 1e-3
    assert s["logit_diff"][by_id["destroy"], 0] < -5
    assert sum(v.id == "multi" for v in scored.variants) == 2  # split into two SNVs (third allele is the ref)
    skipped = scored.report.skipped
    assert skipped["indel"] == 1 and skipped["contig_missing"] == 1 and skipped["position_out_of_range"] == 1
    assert skipped["ref_mismatch"] == 1 and any("mismatch" not in p and "REF" in p for p in scored.report.problems)
    assert "mismatch" not in by_id
    again = score_variants(RunModel.load(run), vcf, genome, use_genome_ref=True)
    assert any(v.id == "mismatch" for v in again.variants)
    i = [v.id for v in again.variants].index("mismatch")
    assert again.ref_match[i] is False or again.ref_match[i] == np.False_


def test_variant_effect_cli_outputs_and_errors(tmp_path):
    run, vcf, genome = _setup(tmp_path)
    out = tmp_path / "effects.tsv"
    result = CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(vcf), "--genome", str(genome),
                                       "--out", str(out), "--plot-variant", "destroy"])
    assert result.exit_code == 0, result.output
    rows = out.read_text().splitlines()
    assert rows[0].startswith("variant\tchrom\tpos") and any(r.startswith("destroy") for r in rows)
    assert "largest effects" in result.output and "destroy" in result.output.split("largest effects")[1].splitlines()[1]
    assert (tmp_path / "effects_destroy.png").stat().st_size > 10_000
    h5 = tmp_path / "effects.h5"
    assert CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(vcf), "--genome", str(genome),
                                     "--out", str(h5)]).exit_code == 0
    with h5py.File(h5) as f:
        assert f["diff"].shape == (len(f["variants"]), 1) and f["features"][0] == b"K562|GATA1|None"
    (tmp_path / "nohead.vcf").write_text("1\t10\t.\tA\tC\n")
    bad = CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(tmp_path / "nohead.vcf"),
                                    "--genome", str(genome), "--out", str(out)])
    assert bad.exit_code == 2 and "no VCF header" in bad.output


def test_centering_convention_and_strand_averaging(tmp_path):
    """The variant sits at index L//2: a model that reads only that base sees exactly the alt."""
    import keras

    from chromseq.inference import predict_batches
    from chromseq.runs import RunInfo, write_run_info

    length = 11
    inputs = keras.Input((length, 4))
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(1, name="logits")
    out = keras.layers.Activation("sigmoid", name="output", dtype="float32")(dense(flat))
    model = keras.Model(inputs, out)
    w = np.zeros((length * 4, 1), "float32")
    w[(length // 2) * 4 + 0] = 4.0  # only 'A' (channel 0 of AGCT) at the center counts
    dense.set_weights([w, np.array([-2.0], "float32")])
    x = np.zeros((1, length, 4), "float32")
    x[0, length // 2, 0] = 1
    fwd = predict_batches(model, x)[0, 0]
    both = predict_batches(model, x, rc_average=True, alphabet="AGCT")[0, 0]
    assert both == np.float32((fwd + 1 / (1 + np.exp(2.0))) / 2)  # RC puts T at the center: logit -2
    (tmp_path / "run").mkdir()
    model.save(tmp_path / "run" / "model.keras")
    write_run_info(tmp_path / "run", RunInfo(path=tmp_path / "run", alphabet="AGCT", seq_len=length, n_features=1))
    (tmp_path / "g.fa").write_text(">c\n" + "CCCCCCCCCCACCCCCCCCCC\n")  # A at 1-based position 11
    (tmp_path / "v.vcf").write_text(VCF_HEAD + "c\t11\tv\tA\tG\t.\t.\t.\n")
    s = score_variants(RunModel.load(tmp_path / "run"), tmp_path / "v.vcf", tmp_path / "g.fa").scores(1)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    expected_ref = (sig(2.0) + sig(-2.0)) / 2  # forward sees A, the reverse strand T
    assert s["p_ref"][0, 0] == np.float32(expected_ref)
    assert s["p_alt"][0, 0] == np.float32(sig(-2.0))
