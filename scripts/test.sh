#!/usr/bin/env bash
# Set up (virtual environment + install) and run the test suite. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[dev]'
.venv/bin/ruff check chromseq tests scripts examples
# -n 2: both cores; --dist loadfile keeps each test file (and its trained fixtures) in one worker;
# --durations lists the slowest tests so that a slow one shows up in every CI log.
.venv/bin/pytest -q -n 2 --dist loadfile --durations=15 "$@"
