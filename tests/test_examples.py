"""The scripts in examples/ run as a user runs them (a fresh process, in a temporary folder)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg"}


def test_train_your_own_model(tmp_path):
    script = ROOT / "examples" / "train_your_own_model.py"
    assert len(script.read_text().splitlines()) < 40
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "example")], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test AUROC per feature:" in proc.stdout
    run = tmp_path / "example" / "run"
    for name in ("model.keras", "history.csv", "checkpoints/best.keras", "checkpoints/state.json"):
        assert (run / name).exists(), name
    assert (tmp_path / "example" / "example.png").stat().st_size > 10_000
