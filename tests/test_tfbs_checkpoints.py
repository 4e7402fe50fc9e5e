"""``tfbs train`` checkpoints every epoch through ``chromseq.fit``: a run killed mid-way keeps its best model."""

import gzip
import json

import numpy as np
import pytest

import chromseq.training.core as core
from chromseq import runs
from chromseq.experiments.tfbs import train_binary


def _fold(path, seqs, bound):
    with gzip.open(path, "wt") as fh:
        fh.write("FoldID\tEventID\tseq\tBound\n" + "".join(f"A\ts{i}\t{s}\t{b}\n" for i, (s, b) in
                                                          enumerate(zip(seqs, bound))))
    return path


def test_a_killed_tfbs_run_keeps_its_checkpoints(tmp_path, monkeypatch):
    import keras

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 30)) for _ in range(120)]
    pos = [s[:12] + "GATAAG" + s[18:] for s in seqs[:60]]  # positives only: negatives are shuffles
    train = _fold(tmp_path / "GATA_AC.seq.gz", pos, [1] * 60)
    test = _fold(tmp_path / "GATA_B.seq.gz", pos[:20] + seqs[60:80], [1] * 20 + [0] * 20)

    class Kill(keras.callbacks.Callback):  # the process dies while epoch 3 ends, before it is checkpointed
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    fit = core.fit
    monkeypatch.setattr(core, "fit", lambda *a, **kw: fit(*a, **{**kw, "callbacks": [Kill()]}))
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_binary(train, test, "demo_cnn", run, epochs=5, params={"filters": 8, "widths": [5, 3]}, strands=1)
    state = json.loads((run / runs.CHECKPOINT_DIR / runs.STATE_FILE).read_text())
    assert state["epoch"] == 2 and 1 <= state["best_epoch"] <= 2  # two whole epochs are on disk
    best = runs.load_model(run / runs.CHECKPOINT_DIR / runs.BEST_FILE)
    assert best.output_shape == (None, 1)
    assert (run / runs.CHECKPOINT_DIR / runs.LAST_FILE).exists() and not (run / runs.MODEL_FILE).exists()
