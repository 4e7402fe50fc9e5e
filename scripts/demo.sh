#!/usr/bin/env bash
# Set up (virtual environment + install) and run the main job end to end on CPU:
# synthetic DeepSEA-layout bundle -> train a small model -> evaluate -> plots and report in runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e .
cs=.venv/bin/chromseq
[ -f data/synth/test.mat ] || $cs data synth --out data/synth
$cs train --config configs/demo.yaml --overwrite
$cs eval --run runs/demo --data data/synth/test.mat
$cs plot-features --run runs/demo
$cs report --run runs/demo
echo "done: open runs/demo/report.html"
