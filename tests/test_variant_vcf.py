"""variant-effect on indels and multi-allelic records, and its annotated VCF output.

The toy run is ``linear_run`` (Flatten -> Dense, no sigmoid, weights multiples of 1/4), so every
output is an exact fingerprint of the window it was given; the windows below are written out by
hand from the 30-bp contig, following the documented convention (each window L = 7 long with the
middle base of its own allele at index 3).
"""

import gzip

import numpy as np
import pytest
from apps_helpers import linear_run
from click.testing import CliRunner
from toy_models import onehot, revcomp

from chromseq.apps.predict import RunModel
from chromseq.apps.variants import allele_windows, score_variants
from chromseq.cli import main
from chromseq.data.vcf import escape_info

cyvcf2 = pytest.importorskip("cyvcf2", reason="cyvcf2 reads the written VCF back")

CONTIG = "AACCGGTTACGTAGCTAGCATCGATCGGAT"  # 30 bp; 0-based index 9 is C, 12 A, 19-22 ATCG, 24 T
NAMES = ["K562|GATA1|None", "HeLa-S3|CTCF, rep 2|None", "a=b;c%|x y|None"]
HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=c,length=30>\n"
          '##INFO=<ID=CHROMSEQ_TOP,Number=A,Type=String,Description="an old run">\n'
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
RECORDS = [  # chrom, pos, id, ref, alt, qual, filter, info
    ("c", 10, "snv", "C", "A", "50", "PASS", "DP=3"),          # DP undeclared: kept, declared on output
    ("chrc", 13, "ins", "A", "ATTT", ".", ".", "."),           # chr-prefixed name reconciled
    ("c", 20, "del", "ATCG", "A", ".", "q10", "CHROMSEQ_TOP=old"),   # FILTER q10 undeclared
    ("c", 5, "multi", "G", "T,GA,<DEL>", ".", ".", "."),       # SNV, insertion, symbolic (not scored)
    ("c", 25, "wrongref", "G", "C", ".", ".", "."),            # the genome has T: reported, not scored
]
# (ref window, alt window) per scored allele, by hand
WINDOWS = {
    ("snv", "A"): ("TTACGTA", "TTAAGTA"),       # ref [6, 13) with C at 3
    ("ins", "ATTT"): ("CGTAGCT", "GTATTTG"),    # alt haplotype [10, 17): the middle of ATTT (its 1st T) at 3
    ("del", "A"): ("GCATCGA", "AGCAATC"),       # ref [17, 24) (T of ATCG at 3); alt AGC + A + ATC
    ("multi", "T"): ("ACCGGTT", "ACCTGTT"),
    ("multi", "GA"): ("ACCGGTT", "ACCGAGT"),
}


def _setup(tmp_path):
    (tmp_path / "g.fa").write_text(f">c\n{CONTIG}\n")
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + "".join("\t".join(map(str, r)) + "\n" for r in RECORDS))
    toy = linear_run(tmp_path / "run", 7, n_features=3, seed=7)
    from apps_helpers import save_run

    save_run(toy, tmp_path / "run", 7, names=NAMES)  # the same weights, names with VCF-reserved characters
    return toy, vcf, tmp_path / "g.fa", tmp_path / "run"


def _both(toy, window):
    return 0.5 * (toy.outputs(onehot([window]))[0] + toy.outputs(onehot([revcomp(window)]))[0])


def test_allele_windows_follow_the_convention():
    fetch = lambda a, b: "".join(CONTIG[i] if 0 <= i < len(CONTIG) else "N" for i in range(a, b))  # noqa: E731
    for (vid, alt), windows in WINDOWS.items():
        rec = next(r for r in RECORDS if r[2] == vid)
        assert allele_windows(fetch, rec[1] - 1, len(rec[3]), alt, 7) == windows, vid
    # even length: the left middle at L // 2; an allele longer than L keeps its middle; contig ends are N
    assert allele_windows(fetch, 12, 1, "ATTT", 6) == ("CGTAGC", "GTATTT")
    assert allele_windows(fetch, 0, 1, "AACGTACGTAC", 7) == ("NNNAACC", "CGTACGT")
    assert allele_windows(fetch, 27, 3, "G", 7) == ("CGGATNN", "TCGGNNN")


def test_indels_and_multiallelic_records_score_exactly(tmp_path):
    toy, vcf, genome, run = _setup(tmp_path)
    scored = score_variants(RunModel.load(run), vcf, genome, batch_size=2, chunk=3)
    assert [(v.id, v.alt) for v in scored.variants] == list(WINDOWS)
    assert [v.kind for v in scored.variants] == ["SNV", "insertion", "deletion", "SNV", "insertion"]
    assert scored.report.skipped["symbolic_or_missing"] == 1 and scored.report.skipped["ref_mismatch"] == 1
    assert scored.ref_checked == {5: True, 6: True, 7: True, 8: True, 9: False}  # VCF line numbers
    s = scored.scores(3)
    for i, key in enumerate(WINDOWS):
        ref_w, alt_w = WINDOWS[key]
        np.testing.assert_array_equal(s["p_ref"][i], _both(toy, ref_w).astype(np.float32), err_msg=str(key))
        np.testing.assert_array_equal(s["p_alt"][i], _both(toy, alt_w).astype(np.float32), err_msg=str(key))


def _tsv(path):
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


@pytest.mark.parametrize("suffix", [".vcf", ".vcf.gz"])
def test_vcf_output_reads_back_with_the_tsv_values(tmp_path, suffix):
    toy, vcf, genome, run = _setup(tmp_path)
    tsv, out = tmp_path / "e.tsv", tmp_path / f"e{suffix}"
    for path in (tsv, out):
        result = CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(vcf), "--genome",
                                           str(genome), "--out", str(path), "--top", "0"])
        assert result.exit_code == 0, result.output
    assert "5 variants scored (2 SNV, 1 deletion, 2 insertion)" in result.output
    rows = _tsv(tsv)
    for row in rows:  # the TSV: hand-computed windows through the NumPy twin
        ref_w, alt_w = WINDOWS[(row["variant"], row["alt"])]
        j = NAMES.index(row["feature"])
        expected = _both(toy, alt_w)[j] - _both(toy, ref_w)[j]
        assert float(row["diff"]) == expected and float(row["p_ref"]) == _both(toy, ref_w)[j]
    if suffix == ".vcf.gz":
        assert out.read_bytes()[12:14] == b"BC"  # BGZF, so tabix / bcftools index it
        text = gzip.decompress(out.read_bytes()).decode()
    else:
        text = out.read_text()
    assert "##chromseq=variant-effect run=" in text and "window=7" in text
    assert text.count("ID=CHROMSEQ_TOP,") == 1 and "an old run" not in text  # an earlier run's field replaced
    reader = cyvcf2.VCF(str(out))
    assert reader.get_header_type("CHROMSEQ_MAXABS")["Number"] == "A"
    records = list(reader)
    assert [r.ID for r in records] == [r[2] for r in RECORDS]
    by_id = {r.ID: r for r in records}
    assert by_id["snv"].INFO.get("DP") == "3" and by_id["snv"].FILTERS == ["PASS"] and by_id["snv"].QUAL == 50
    assert by_id["del"].FILTER == "q10"
    for vid, record in by_id.items():
        assert record.INFO.get("CHROMSEQ_REFMATCH") == (0 if vid == "wrongref" else 1)
    assert by_id["wrongref"].INFO.get("CHROMSEQ_MAXABS") is None
    for vid in ("snv", "ins", "del", "multi"):
        record = by_id[vid]
        alts = record.ALT
        maxabs = record.INFO.get("CHROMSEQ_MAXABS")
        maxabs = list(maxabs) if isinstance(maxabs, tuple) else [maxabs]
        tops = record.INFO.get("CHROMSEQ_TOP").split(",")
        assert len(tops) == len(alts)
        for k, alt in enumerate(alts):
            mine = [r for r in rows if r["variant"] == vid and r["alt"] == alt]  # ordered by |diff|
            if not mine:
                assert alt == "<DEL>" and tops[k] == "."
                continue
            assert maxabs[k] == np.float32(max(float(r["abs_diff"]) for r in mine))
            assert tops[k] == "&".join(f"{escape_info(r['feature'])}:{r['diff']}" for r in mine)
            back = [entry.rsplit(":", 1) for entry in tops[k].split("&")]
            assert [float(d) for _, d in back] == [float(r["diff"]) for r in mine]
    assert escape_info(NAMES[2]) == "a%3Db%3Bc%25|x%20y|None"


def test_variant_effect_refuses_an_unknown_output_format(tmp_path):
    _, vcf, genome, run = _setup(tmp_path)
    result = CliRunner().invoke(main, ["variant-effect", "--run", str(run), "--vcf", str(vcf), "--genome",
                                       str(genome), "--out", str(tmp_path / "e.bed")])
    assert result.exit_code == 2 and "unknown output format '.bed'" in result.output
    assert ".vcf.gz" in result.output and len(result.output.strip().splitlines()) == 1
