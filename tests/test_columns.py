"""The on-disk column store gives back exactly what was written, and the metrics computed from it."""

from __future__ import annotations

import numpy as np

from chromseq.evaluation.columns import ColumnStore
from chromseq.evaluation.metrics import metrics_by_column, per_feature_metrics


def test_columns_rows_and_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n, k = 103, 7
    score = rng.random((n, k)).astype(np.float32)
    label = (rng.random((n, k)) < 0.3).astype(np.uint8)
    with ColumnStore(tmp_path, n, k) as store:
        for start in range(0, n, 40):  # uneven blocks, the last one short
            store.add(score[start:start + 40], label[start:start + 40])
        for j in range(k):
            y, s = store.column(j)
            np.testing.assert_array_equal(y, label[:, j])
            np.testing.assert_array_equal(s, score[:, j])
        np.testing.assert_array_equal(store.rows("score", 35, 90), score[35:90])
        got = metrics_by_column(store.column, k, min_positives=1)
        store.write_npz(tmp_path / "p.npz", block=16, names=np.array(list("abcdefg")))
    want = per_feature_metrics(label, score, min_positives=1)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
    with np.load(tmp_path / "p.npz") as npz:
        np.testing.assert_array_equal(npz["y_pred"], score)
        np.testing.assert_array_equal(npz["y_true"], label)
        assert npz["y_true"].dtype == np.uint8 and list(npz["names"]) == list("abcdefg")
    assert [p.name for p in tmp_path.iterdir()] == ["p.npz"]  # temporary files gone


def test_block_that_does_not_fit_is_refused(tmp_path):
    import pytest

    with ColumnStore(tmp_path, 5, 2) as store:
        store.add(np.zeros((3, 2)), np.zeros((3, 2)))
        with pytest.raises(ValueError):
            store.add(np.zeros((3, 2)), np.zeros((3, 2)))
