"""Train your own Keras model with chromseq: synthetic bundle -> chromseq.fit -> per-feature AUROC -> figure.

    python examples/train_your_own_model.py [OUT_DIR]      # default runs/example; ~20 s on 2 CPU cores
"""
import sys
from pathlib import Path

import keras
import matplotlib.pyplot as plt

import chromseq
from chromseq.data import open_dataset
from chromseq.data.synth import write_bundle
from chromseq.evaluation.metrics import per_feature_metrics

out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/example")
write_bundle(out / "data", n_train=4000, n_valid=256, n_test=256, length=100, n_features=8, seed=0)
(x, y), valid, (tx, ty) = (open_dataset(out / "data" / f"{s}.mat").load() for s in ("train", "valid", "test"))

# any Keras model from one-hot DNA x (N, L, 4) to K sigmoid outputs (N, K)
model = keras.Sequential([keras.Input((100, 4)), keras.layers.Conv1D(32, 9, activation="relu"),
                          keras.layers.GlobalMaxPooling1D(), keras.layers.Dense(y.shape[1], activation="sigmoid")])
model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy")
# checkpoints, history.csv, early stopping and whole-validation-set AUROC/F1 in out/run
result = chromseq.fit(model, (x.astype("float32"), y.astype("float32")), valid, out / "run", epochs=8,
                      batch_size=32, monitor="val_auroc", patience=3, overwrite=True, verbose=0)

auroc = per_feature_metrics(ty, chromseq.predict_batches(result.model, tx), min_positives=5)["auroc"]
print("test AUROC per feature:", " ".join(f"{a:.3f}" for a in auroc))

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.plot([row["val_auroc"] for row in result.history], marker="o")
left.set(xlabel="epoch", ylabel="validation AUROC (mean over features)")
right.bar(range(len(auroc)), auroc)
right.set(xlabel="feature", ylabel="test AUROC", ylim=(0.4, 1))
fig.tight_layout()
fig.savefig(out / "example.png")
print(f"wrote {out / 'example.png'} (best epoch {result.best_epoch})")
