#!/usr/bin/env bash
# Run the test suite as other machines would: oneDNN's kernels are chosen by instruction set, so
# each setting below runs different code on an AVX-512 CPU (ONEDNN_MAX_CPU_ISA can only lower it:
# on an AVX2-only CPU the AVX512_CORE run equals the default one).
#
#   bash scripts/test_matrix.sh [--repeats N] [--load] [pytest args...]
#
# --load runs a CPU-bound process beside the suite. One line per run goes to stdout and to
# runs/test_matrix.tsv: setting, repeat, exit code, pytest's summary line, wall seconds.
set -uo pipefail
cd "$(dirname "$0")/.."
repeats=1
load=0
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --load) load=1; shift ;;
    *) break ;;
  esac
done
[ -x .venv/bin/pytest ] || { echo "run bash scripts/test.sh once first (it makes .venv)" >&2; exit 2; }
settings=("default" "ONEDNN_MAX_CPU_ISA=AVX2" "ONEDNN_MAX_CPU_ISA=AVX512_CORE" "TF_ENABLE_ONEDNN_OPTS=0")
mkdir -p runs
out=runs/test_matrix.tsv
burner=""
if [ "$load" = 1 ]; then
  .venv/bin/python -c "while True: pass" &
  burner=$!
  trap 'kill $burner 2>/dev/null' EXIT
fi
status=0
for setting in "${settings[@]}"; do
  for r in $(seq 1 "$repeats"); do
    env_args=()
    [ "$setting" != default ] && env_args=("$setting")
    log=$(mktemp)
    start=$(date +%s)
    env "${env_args[@]}" .venv/bin/pytest -q -n 2 --dist loadfile -p no:cacheprovider "$@" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    summary=$(grep -E "(passed|failed|error)" "$log" | tail -1)
    line=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$setting" "$r" "$rc" "$summary" "${secs}s" "$([ "$load" = 1 ] && echo loaded || echo quiet)")
    echo "$line" | tee -a "$out"
    [ "$rc" = 0 ] || { status=1; grep -E "^(FAILED|ERROR)" "$log" | head -20; }
    rm -f "$log"
  done
done
exit $status
