"""Motif comparison by Tomtom's statistics (memelite), taxon selection and the filters/classopt tables.

memelite compiles its numba kernels on the first call of a fresh environment (about a minute on
2 cores, cached afterwards), so every test that runs Tomtom is marked slow.
"""

import numpy as np
import pytest
from apps_helpers import motif_run
from click.testing import CliRunner
from toy_models import MOTIF, onehot, revcomp

from chromseq.cli import main
from chromseq.data.motifs import Motif, read_motifs, select_taxon, write_meme
from chromseq.errors import ChromseqError
from chromseq.interpret import compare_motifs, filter_motifs
from chromseq.interpret.filters import trim
from chromseq.interpret.motif_match import MATCH_COLUMNS, write_matches

tomtom = pytest.mark.slow  # numba compiles memelite's kernels on a cold cache


def _database(n: int = 40, seed: int = 4) -> list[Motif]:
    """A target of width 12 among ``n - 1`` random decoys of widths 8-14 (Tomtom's background)."""
    rng = np.random.default_rng(seed)
    target = Motif("t", "T", rng.dirichlet(np.full(4, 0.3), 12))
    decoys = [Motif(f"d{i}", f"D{i}", rng.dirichlet(np.ones(4), int(rng.integers(8, 15)))) for i in range(n - 1)]
    return [target, *decoys]


@tomtom
def test_offsets_orientation_overlap_and_the_tomtom_table():
    db = _database()
    target = db[0].pwm
    inner = Motif("q", "q", target[3:11])  # query column i = database column i + 3
    best = compare_motifs([inner], db, top=len(db))[0]
    assert (best[0].target_id, best[0].offset, best[0].orientation, best[0].overlap) == ("t", 3, "+", 8)
    assert [m.rank for m in best] == list(range(1, len(db) + 1))
    p = np.array([m.p_value for m in best])
    assert (np.diff(p) >= 0).all() and p[0] < 1e-6
    for m in best:  # Tomtom's E-value: p times the number of database motifs
        assert m.e_value == pytest.approx(m.p_value * len(db), rel=1e-12)
    # q-value: Benjamini-Hochberg over this query's p-values against the whole database
    ranks = np.arange(1, len(p) + 1)
    q = np.minimum.accumulate((p * len(p) / ranks)[::-1])[::-1].clip(max=1)
    np.testing.assert_allclose([m.q_value for m in best], q, rtol=1e-12)
    assert best[0].query_consensus == inner.consensus() and best[0].target_consensus == db[0].consensus()

    rc = Motif("r", "r", target[3:11][::-1, ::-1])  # ACGT columns reversed = complement
    best = compare_motifs([rc], db, top=1)[0][0]
    # the reverse complement of the 12-wide target holds the query at column 12 - 11 = 1
    assert (best.target_id, best.orientation, best.offset, best.overlap) == ("t", "-", 1, 8)
    assert best.target_consensus == db[0].reverse_complement().consensus()


@tomtom
def test_narrow_queries_get_no_match_and_write_matches_reads_back(tmp_path):
    db = _database()
    queries = [Motif("n", "n", db[0].pwm[:3]), Motif("w", "w", db[0].pwm)]
    matches = compare_motifs(queries, db, top=2)
    assert matches[0] == [] and [m.target_id for m in matches[1]][:1] == ["t"]
    assert compare_motifs(queries, []) == [[], []] and compare_motifs([], db) == []
    write_matches(tmp_path / "m.tsv", matches, {"sites": [5, 7]})
    header, *rows = [r.split("\t") for r in (tmp_path / "m.tsv").read_text().splitlines()]
    assert header == ["query", "sites", *MATCH_COLUMNS] and len(rows) == 2
    assert rows[0][:5] == ["w", "7", "1", "t", "T"] and float(rows[0][5]) == pytest.approx(matches[1][0].p_value, 1e-2)


@tomtom
def test_filters_of_the_exact_motif_scanner_match_the_motif_on_either_strand():
    from toy_models import motif_scanner

    toy = motif_scanner(MOTIF)  # filter 0 = MOTIF, filter 1 = its reverse complement
    seqs = ["C" * 5 + MOTIF + "C" * 15, "A" * 20 + revcomp(MOTIF), "C" * 30, MOTIF + "A" * 10 + MOTIF]
    motifs, _ = filter_motifs(toy.model, onehot(seqs))
    db = [*_database(), Motif("gata", "GATA1", onehot(MOTIF, "ACGT"))]
    for m, strand in zip(motifs, "+-"):
        best = compare_motifs([trim(m)], db, top=2)[0]
        assert best[0].target_id == "gata" and best[0].orientation == strand
        assert best[0].offset == 0 and best[0].overlap == len(MOTIF) and best[0].q_value < 0.05
        assert best[1].p_value > 100 * best[0].p_value


@tomtom
def test_jaspar_finds_ctcf_itself_and_taxon_restricts(shared_data):
    db = read_motifs(shared_data / "motifs" / "jaspar2024_core.transfac.gz")
    ctcf = next(m for m in db if m.id == "MA0139.2")
    best = compare_motifs([ctcf.reverse_complement()], db, top=3)[0]
    assert best[0].target_id == "MA0139.2" and best[0].orientation == "-" and best[0].offset == 0
    assert best[0].overlap == ctcf.width and best[0].q_value < 1e-6
    vert = select_taxon(db, "vertebrates")
    best = compare_motifs([ctcf], vert, top=1)[0][0]
    assert best.target_id == "MA0139.2" and best.e_value == pytest.approx(best.p_value * 879, rel=1e-12)


def test_taxon_annotations_are_read_and_selected(shared_data, tmp_path):
    db = read_motifs(shared_data / "motifs" / "jaspar2024_core.transfac.gz")
    counts = {t: sum(m.taxon == t for m in db) for t in {m.taxon for m in db}}
    assert counts == {"vertebrates": 879, "plants": 805, "insects": 286, "fungi": 178, "nematodes": 103,
                      "urochordates": 94, "diatoms": 1}
    assert len(select_taxon(db, "Vertebrates")) == 879
    assert next(m for m in db if m.id == "MA0139.2").reverse_complement().taxon == "vertebrates"
    with pytest.raises(ChromseqError, match="no motif of taxon 'mammals'; taxa present: diatoms, fungi"):
        select_taxon(db, "mammals", "jaspar.transfac")
    write_meme(tmp_path / "m.meme", db[:3])
    with pytest.raises(ChromseqError, match="m.meme: --taxon needs taxon annotations"):
        select_taxon(read_motifs(tmp_path / "m.meme"), "vertebrates", tmp_path / "m.meme")


def test_transfac_taxon_per_motif(tmp_path):
    block = "AC {ac}\nID {id}\nPO\tA\tC\tG\tT\n01\t1\t0\t0\t0\n02\t0\t1\t0\t0\nXX\n{cc}XX\n//\n"
    (tmp_path / "t.transfac").write_text(block.format(ac="M1", id="a", cc="CC tax_group:plants\n")
                                         + block.format(ac="M2", id="b", cc=""))
    m1, m2 = read_motifs(tmp_path / "t.transfac")
    assert (m1.taxon, m2.taxon) == ("plants", None)


def _cli_run(tmp_path):
    import h5py

    motif_run(tmp_path / "run", seq_len=40, fixed_length=True)
    seqs = ["C" * 12 + MOTIF + "C" * 18, "A" * 40, "T" * 25 + revcomp(MOTIF) + "T" * 5, "G" * 40]
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = onehot(seqs).astype(np.uint8)
        f["y"] = np.array([[1], [0], [1], [0]], np.uint8)
        f.attrs["alphabet"] = "AGCT"
    return ["--run", str(tmp_path / "run"), "--data", str(tmp_path / "d.h5")]


def test_taxon_errors_on_the_command_line(tmp_path):
    args = _cli_run(tmp_path)
    write_meme(tmp_path / "db.meme", [Motif("gata", "GATA1", onehot(MOTIF, "ACGT"))])
    result = CliRunner().invoke(main, ["interpret", "filters", *args, "--taxon", "vertebrates"])
    assert result.exit_code == 2 and "give --motif-db too" in result.output
    result = CliRunner().invoke(main, ["interpret", "filters", *args, "--motif-db", str(tmp_path / "db.meme"),
                                       "--taxon", "vertebrates"])
    assert result.exit_code == 2 and "db.meme: --taxon needs taxon annotations" in result.output
    assert "Traceback" not in result.output


@tomtom
def test_filters_and_classopt_write_tomtom_tables(tmp_path):
    args = _cli_run(tmp_path)
    block = "AC {ac}\nID {id}\nPO\tA\tC\tG\tT\n{rows}XX\nCC tax_group:{tax}\nXX\n//\n"
    db = [*_database(), Motif("gata", "GATA1", onehot(MOTIF, "ACGT"))]
    text = "".join(block.format(ac=m.id, id=m.name, tax="vertebrates" if m.id in ("gata", "d0") else "plants",
                                rows="".join(f"{i:02d}\t" + "\t".join(f"{v * 100:.4f}" for v in row) + "\n"
                                             for i, row in enumerate(m.pwm, 1))) for m in db)
    (tmp_path / "db.transfac").write_text(text)
    result = CliRunner().invoke(main, ["interpret", "filters", *args, "--out", str(tmp_path / "f"),
                                       "--motif-db", str(tmp_path / "db.transfac")])
    assert result.exit_code == 0, result.output
    header, *rows = [r.split("\t") for r in (tmp_path / "f" / "matches.tsv").read_text().splitlines()]
    assert header == ["query", "sites", "information_bits", *MATCH_COLUMNS]
    row = dict(zip(header, rows[0]))
    assert (row["query"], row["sites"], row["rank"], row["target_id"], row["orientation"]) == \
        ("filter0", "1", "1", "gata", "+")
    assert float(row["q_value"]) < 0.05 and float(row["e_value"]) == pytest.approx(float(row["p_value"]) * len(db), 1e-2)
    assert "GATA1 (gata) p " in result.output
    result = CliRunner().invoke(main, ["interpret", "filters", *args, "--out", str(tmp_path / "v"),
                                       "--motif-db", str(tmp_path / "db.transfac"), "--taxon", "vertebrates"])
    assert result.exit_code == 0, result.output
    rows = [r.split("\t") for r in (tmp_path / "v" / "matches.tsv").read_text().splitlines()[1:]]
    assert {r[4] for r in rows} <= {"gata", "d0"} and rows[0][4] == "gata"
    result = CliRunner().invoke(main, ["interpret", "classopt", *args, "--steps", "3", "--out", str(tmp_path / "c"),
                                       "--motif-db", str(tmp_path / "db.transfac")])
    assert result.exit_code == 0, result.output
    header, *rows = [r.split("\t") for r in (tmp_path / "c" / "classopt_matches.tsv").read_text().splitlines()]
    assert header == ["query", *MATCH_COLUMNS] and len(rows) == 5 and rows[0][0] == "classopt_0_20"


def test_a_filter_that_learned_nothing_is_matched_to_nothing():
    dead = Motif("filter9", "filter9", np.full((21, 4), 0.25))  # no window activated it
    assert trim(dead).width == 0
    assert compare_motifs([trim(dead)], _database()) == [[]]  # never a tiny p-value against flat flanks
