"""Commands keep TensorFlow's start-up logs off the terminal; chromseq's own output still shows."""

import subprocess
import sys
from pathlib import Path

CHROMSEQ = [str(Path(sys.executable).with_name("chromseq"))]


def _run(*args: str) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP_")}  # the defaults a user has
    return subprocess.run([*CHROMSEQ, *args], capture_output=True, text=True, env=env, timeout=300)


def test_a_command_that_starts_tensorflow_prints_only_its_own_output():
    proc = _run("bench", "device", "--repeats", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "training uses" in proc.stdout


def test_an_error_is_one_line_on_stderr(tmp_path):
    proc = _run("eval", "--run", str(tmp_path / "missing"), "--data", str(tmp_path / "x.mat"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {tmp_path / 'missing'}: run directory not found"]
