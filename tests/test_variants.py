"""Variant effects on toy runs with hand-set weights, checked against NumPy on windows built by hand."""

import h5py
import numpy as np
from apps_helpers import linear_run, motif_run, random_genome, save_run
from click.testing import CliRunner
from toy_models import PROB_ATOL, flatten_dense, onehot, revcomp, sigmoid

from chromseq.apps.predict import RunModel
from chromseq.apps.variants import EPS, score_variants
from chromseq.cli import main

VCF_HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def _write_vcf(path, lines):
    path.write_text(VCF_HEAD + "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t.\n" for c, p, i, r, a in lines))
    return path


def _window(seq: str, pos: int, length: int) -> str:
    """The window with 1-based ``pos`` at index length // 2, N past the contig ends (written out by hand)."""
    start = pos - 1 - length // 2
    return "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(start, start + length))


def _both_strands(toy, windows, alphabet="AGCT"):
    return 0.5 * (toy.outputs(onehot(windows, alphabet)) + toy.outputs(onehot([revcomp(w) for w in windows], alphabet)))


def allele_window(seq: str, pos: int, ref_len: int, allele: str, length: int) -> str:
    """The window on the haplotype ``seq`` with ``allele`` in place of the ``ref_len`` bases at 1-based
    ``pos``, the allele's middle base (left middle when even) at index length // 2; N past the ends."""
    pad = "N" * (length + len(allele))
    hap = pad + seq[: pos - 1] + allele + seq[pos - 1 + ref_len:] + pad
    middle = len(pad) + pos - 1 + (len(allele) - 1) // 2
    return hap[middle - length // 2: middle - length // 2 + length]


def _expected(toy, seqs, scored, length, alphabet="AGCT"):
    ref_w, alt_w = [], []
    for v, base in zip(scored.variants, scored.genome_ref):
        seq = seqs[v.chrom.removeprefix("chr")]
        assert seq[v.pos - 1: v.pos - 1 + len(v.ref)] == base
        ref_w.append(allele_window(seq, v.pos, len(v.ref), base, length))
        alt_w.append(allele_window(seq, v.pos, len(v.ref), v.alt, length))
    return _both_strands(toy, ref_w, alphabet), _both_strands(toy, alt_w, alphabet)


def _setup(tmp_path):
    seqs = random_genome(tmp_path / "g.fa", {"1": 3000, "2": 500}, {"1": 1000})
    toy = motif_run(tmp_path / "run")
    g1 = seqs["1"]
    center = 1000 + 4  # 0-based index of the motif's 5th base (A of GATAAGG)
    wrong = "A" if g1[1199] != "A" else "C"  # a REF the genome does not have
    lines = [
        ("chr1", center + 1, "destroy", g1[center], "C" if g1[center] != "C" else "T"),   # inside the motif
        ("chr1", 2500, "far", g1[2499], "G" if g1[2499] != "G" else "T"),                # far from it
        ("1", 1200, "mismatch", wrong, next(b for b in "GTAC" if b not in (g1[1199], wrong))),
        ("1", 1300, "indel", g1[1299], g1[1299] + "AT"),
        ("1", 1400, "multi", g1[1399], ",".join(b for b in "ACGT" if b != g1[1399])[:3]),
        ("chrX", 10, "nocontig", "A", "C"),
        ("2", 900, "beyond", "A", "C"),
        ("2", 3, "edge", seqs["2"][2], "A" if seqs["2"][2] != "A" else "C"),              # N-padded window
    ]
    return toy, seqs, _write_vcf(tmp_path / "v.vcf", lines), tmp_path / "g.fa"


def test_destroying_the_motif_scores_exactly(tmp_path):
    toy, seqs, vcf, genome = _setup(tmp_path)
    scored = score_variants(RunModel.load(tmp_path / "run"), vcf, genome, batch_size=3, chunk=2)
    s = scored.scores(1)
    ids = [v.id for v in scored.variants]
    assert ids == ["destroy", "far", "indel", "multi", "multi", "edge"]  # multi split (third allele = ref)
    assert scored.variants[2].kind == "insertion" and scored.kinds == {"SNV": 5, "insertion": 1}
    p_ref, p_alt = _expected(toy, seqs, scored, 101)
    np.testing.assert_allclose(p_ref[0], [sigmoid(5)], rtol=0, atol=PROB_ATOL)  # the motif, read on both strands
    np.testing.assert_allclose(p_alt[0], [sigmoid(-5)], rtol=0, atol=PROB_ATOL)
    for key, expected in (("p_ref", p_ref), ("p_alt", p_alt), ("diff", p_alt - p_ref),
                          ("abs_diff", np.abs(p_alt - p_ref))):
        np.testing.assert_allclose(s[key], expected, rtol=0, atol=2 * PROB_ATOL, err_msg=key)
    r, a = np.clip(p_ref, EPS, 1 - EPS), np.clip(p_alt, EPS, 1 - EPS)
    logit_diff = np.log(a / (1 - a)) - np.log(r / (1 - r))
    # a probability off by PROB_ATOL moves its logit by at most PROB_ATOL / (p (1 - p))
    tol = PROB_ATOL / (r * (1 - r)) + PROB_ATOL / (a * (1 - a))
    assert np.all(np.abs(s["logit_diff"] - logit_diff) <= tol), (s["logit_diff"], logit_diff)
    assert abs(logit_diff[0, 0] + 10) < 1e-9
    skipped = scored.report.skipped
    assert skipped["indel"] == 0 and skipped["contig_missing"] == 1 and skipped["position_out_of_range"] == 1
    assert skipped["ref_mismatch"] == 1 and any("mismatch" not in p and "REF" in p for p in scored.report.problems)
    again = score_variants(RunModel.load(tmp_path / "run"), vcf, genome, use_genome_ref=True)
    i = [v.id for v in again.variants].index("mismatch")
    assert not again.ref_match[i] and again.genome_ref[i] == seqs["1"][1199]
    p_ref, p_alt = _expected(toy, seqs, again, 101)
    np.testing.assert_allclose(again.scores(1)["diff"], p_alt - p_ref, rtol=0, atol=2 * PROB_ATOL)


def test_windows_are_centered_on_the_variant_exactly(tmp_path):
    """A run without a sigmoid outputs an exact fingerprint of each window: both strands, odd and even L."""
    rng = np.random.default_rng(11)
    seqs = {"c": "".join(rng.choice(list("ACGT"), 40)), "d": "".join(rng.choice(list("ACGT"), 7))}
    (tmp_path / "g.fa").write_text("".join(f">{k}\n{v}\n" for k, v in seqs.items()))
    lines = [("c", p, f"c{p}", seqs["c"][p - 1], "T" if seqs["c"][p - 1] != "T" else "G") for p in (1, 2, 6, 20, 39, 40)]
    lines += [("d", 4, "d4", seqs["d"][3], "A" if seqs["d"][3] != "A" else "C")]  # window wider than the contig
    vcf = _write_vcf(tmp_path / "v.vcf", lines)
    for length, alphabet in ((11, "AGCT"), (10, "ACGT")):
        toy = linear_run(tmp_path / f"run{length}", length, n_features=3, alphabet=alphabet, seed=length)
        scored = score_variants(RunModel.load(tmp_path / f"run{length}"), vcf, tmp_path / "g.fa", batch_size=4)
        assert [v.id for v in scored.variants] == [line[2] for line in lines]
        s = scored.scores(3)
        ref_w = [_window(seqs[c], p, length) for c, p, *_ in lines]
        alt_w = [w[: length // 2] + alt + w[length // 2 + 1:] for w, (*_, alt) in zip(ref_w, lines)]
        p_ref, p_alt = _both_strands(toy, ref_w, alphabet), _both_strands(toy, alt_w, alphabet)
        np.testing.assert_array_equal(s["p_ref"], p_ref.astype(np.float32))  # multiples of 1/8: exact
        np.testing.assert_array_equal(s["p_alt"], p_alt.astype(np.float32))
        np.testing.assert_array_equal(s["diff"], (p_alt - p_ref).astype(np.float32))


def test_variant_effect_cli_outputs_and_errors(tmp_path):
    toy, seqs, vcf, genome = _setup(tmp_path)
    run = tmp_path / "run"
    out = tmp_path / "effects.tsv"
    result = CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(vcf), "--genome", str(genome),
                                       "--out", str(out), "--plot-variant", "destroy"])
    assert result.exit_code == 0, result.output
    rows = [r.split("\t") for r in out.read_text().splitlines()]
    assert rows[0][:3] == ["variant", "chrom", "pos"] and rows[0][-4:] == ["p_alt", "diff", "abs_diff", "logit_diff"]
    destroy = next(r for r in rows if r[0] == "destroy")
    np.testing.assert_allclose([float(v) for v in destroy[7:10]], [sigmoid(5), sigmoid(-5), sigmoid(-5) - sigmoid(5)],
                               rtol=5e-5)  # %.5g: 5 significant digits
    assert "largest effects" in result.output and "destroy" in result.output.split("largest effects")[1].splitlines()[1]
    assert (tmp_path / "effects_destroy.png").stat().st_size > 10_000
    h5 = tmp_path / "effects.h5"
    assert CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(vcf), "--genome", str(genome),
                                     "--out", str(h5)]).exit_code == 0
    scored = score_variants(RunModel.load(run), vcf, genome)
    p_ref, p_alt = _expected(toy, seqs, scored, 101)
    with h5py.File(h5) as f:
        assert f["diff"].shape == (len(f["variants"]), 1) and f["features"][0] == b"K562|GATA1|None"
        assert [v.decode() for v in f["variants"]] == [v.label for v in scored.variants]
        np.testing.assert_allclose(f["diff"][:], p_alt - p_ref, rtol=0, atol=2 * PROB_ATOL)
    (tmp_path / "nohead.vcf").write_text("1\t10\t.\tA\tC\n")
    bad = CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(tmp_path / "nohead.vcf"),
                                    "--genome", str(genome), "--out", str(out)])
    assert bad.exit_code == 2 and "no VCF header" in bad.output


def test_centering_convention_and_strand_averaging(tmp_path):
    """The variant sits at index L//2: a model that reads only that base sees exactly the alt."""
    length = 11
    w = np.zeros((length, 4, 1))
    w[length // 2, 0, 0] = 4.0  # only 'A' (channel 0 of AGCT) at the center counts
    save_run(flatten_dense(w, np.array([-2.0])), tmp_path / "run", length)
    (tmp_path / "g.fa").write_text(">c\n" + "CCCCCCCCCCACCCCCCCCCC\n")  # A at 1-based position 11
    _write_vcf(tmp_path / "v.vcf", [("c", 11, "v", "A", "G")])
    s = score_variants(RunModel.load(tmp_path / "run"), tmp_path / "v.vcf", tmp_path / "g.fa").scores(1)
    expected_ref = (sigmoid(2.0) + sigmoid(-2.0)) / 2  # forward sees A (logit 2), the reverse strand T (-2)
    np.testing.assert_allclose(s["p_ref"], [[expected_ref]], rtol=0, atol=PROB_ATOL)
    np.testing.assert_allclose(s["p_alt"], [[sigmoid(-2.0)]], rtol=0, atol=PROB_ATOL)
