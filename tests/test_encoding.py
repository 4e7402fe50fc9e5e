import numpy as np
import pytest

from chromseq.data.encoding import (
    convert_alphabet,
    decode,
    one_hot,
    reverse_complement,
    reverse_complement_str,
)
from chromseq.errors import ChromseqError


@pytest.mark.parametrize("alphabet", ["AGCT", "ACGT"])
def test_one_hot_round_trip_and_reverse_complement(alphabet):
    seqs = ["ACGTNacgtn", "TTGCAAGCTR"]
    x = one_hot(seqs, alphabet)
    assert x.shape == (2, 10, 4) and x.dtype == np.uint8
    assert x[0, 4].sum() == 0 and x[1, 9].sum() == 0  # N and IUPAC R -> all-zero rows
    assert decode(x, alphabet) == ["ACGTNACGTN", "TTGCAAGCTN"]
    rc = reverse_complement(x, alphabet)
    assert decode(rc, alphabet) == [reverse_complement_str(s) for s in ["ACGTNACGTN", "TTGCAAGCTN"]]
    np.testing.assert_array_equal(reverse_complement(rc, alphabet), x)


def test_agct_channel_order_and_conversion():
    x = one_hot("AGCT", "AGCT")
    np.testing.assert_array_equal(x, np.eye(4, dtype=np.uint8))
    assert decode(convert_alphabet(x, "AGCT", "ACGT"), "ACGT") == "AGCT"


def test_bad_characters_are_reported_with_position():
    with pytest.raises(ChromseqError, match="position 2"):
        one_hot("AC#T", alphabet="ACGT")
    with pytest.raises(ChromseqError, match="different lengths"):
        one_hot(["AC", "ACG"], alphabet="ACGT")
