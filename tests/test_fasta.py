import gzip

import pytest

from chromseq.data.fasta import Genome, read_fasta
from chromseq.errors import ChromseqError


def _write(path, text, gz=False):
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_genome_fetch_pads_and_reconciles_names(tmp_path, monkeypatch, gz):
    monkeypatch.setenv("CHROMSEQ_CACHE", str(tmp_path / "cache"))
    path = _write(tmp_path / ("g.fa.gz" if gz else "g.fa"), ">chr1 desc\nacgtACGT\nNNAA\n>2\nGGGG\n", gz)
    g = Genome(path)
    assert g.contigs == {"chr1": 12, "2": 4}
    assert g.fetch("1", 0, 4) == "ACGT"            # chr1 vs 1 reconciled, soft-masking dropped
    assert g.fetch("chr2", -2, 6) == "NNGGGGNN"    # padded outside the contig
    assert g.fetch("chr1", 8, 12) == "NNAA"
    assert g.fetch("2", -5, -2) == "NNN" and g.fetch("2", 6, 8) == "NN"
    with pytest.raises(ChromseqError, match="not in the genome"):
        g.fetch("chrX", 0, 1)
    with pytest.raises(ChromseqError, match="runs off"):
        g.fetch("2", 2, 6, pad=False)


def test_read_fasta_records_and_errors(tmp_path):
    path = _write(tmp_path / "x.fa.gz", ">a\nac\ngt\n>b x\nNNRY\n", gz=True)
    assert list(read_fasta(path)) == [("a", "ACGT"), ("b", "NNRY")]
    with pytest.raises(ChromseqError, match="invalid character 'X' at position 3"):
        list(read_fasta(_write(tmp_path / "bad.fa", ">a\nACXT\n")))
    with pytest.raises(ChromseqError, match="no FASTA records"):
        list(read_fasta(_write(tmp_path / "empty.fa", "")))
    with pytest.raises(ChromseqError, match="before the first"):
        list(read_fasta(_write(tmp_path / "nohead.fa", "ACGT\n")))


def test_real_ecoli_genome(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMSEQ_CACHE", str(tmp_path / "cache"))
    g = Genome(shared_data / "ecoli" / "GCF_000005845.2_ASM584v2_genomic.fna.gz")
    assert g.contigs == {"NC_000913.3": 4641652}
    assert g.fetch("NC_000913.3", 0, 12) == "AGCTTTTCATTC"
