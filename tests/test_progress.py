"""Progress bars of long interpretation work: on stderr when asked, silent when stderr is not a terminal."""

import numpy as np
import pytest
from toy_models import flatten_dense, onehot

from chromseq.interpret.classopt import class_optimization
from chromseq.interpret.ism import in_silico_mutagenesis


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    return flatten_dense(rng.integers(-4, 5, (6, 4, 2)) / 4.0, np.zeros(2))


def test_bars_show_when_asked_and_not_in_a_pipe(toy, capsys):
    x = onehot(["ACGTAC", "GGTTCA"])
    quiet = in_silico_mutagenesis(toy.model, x, 0)  # stderr is captured (not a terminal): no bar
    assert capsys.readouterr().err == ""
    shown = in_silico_mutagenesis(toy.model, x, 0, progress=True)
    err = capsys.readouterr().err
    assert "mutagenesis" in err and "2/2" in err
    np.testing.assert_array_equal(shown, quiet)  # the bar changes nothing
    class_optimization(toy.model, 1, 6, steps=4, progress=True)
    err = capsys.readouterr().err
    assert "class optimization" in err and "4/4" in err
    class_optimization(toy.model, 1, 6, steps=4, progress=False)
    assert capsys.readouterr().err == ""
