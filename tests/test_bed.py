import gzip

import pytest

from chromseq.data.bed import iter_bed
from chromseq.errors import ChromseqError


def test_bed_reads_gzip_and_reports_bad_lines(tmp_path):
    path = tmp_path / "peaks.bed.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("track name=x\n#c\nchr1\t10\t20\tp1\t0\t+\nchr1\t30\t25\nchr2 5 9\nchr3\tx\t4\n")
    problems: list[str] = []
    got = list(iter_bed(path, problems))
    assert [(i.chrom, i.start, i.end, i.name) for i in got] == [("chr1", 10, 20, "p1"), ("chr2", 5, 9, "chr2:5-9")]
    assert len(problems) == 2 and ":4: end 25 < start 30" in problems[0] and ":6:" in problems[1]
    with pytest.raises(ChromseqError, match="end 25 < start 30"):
        list(iter_bed(path))
