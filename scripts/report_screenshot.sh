#!/usr/bin/env bash
# Render a run's report.html in headless Chromium and save a screenshot (a check that the page works
# offline). Needs Debian's chromium: apt-get install -y chromium
#   bash scripts/report_screenshot.sh runs/demo [out.png]
set -euo pipefail
run=${1:-runs/demo}
out=${2:-$run/report.png}
html=$(readlink -f "$run/report.html")
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$profile" --window-size=1400,2400 \
  --screenshot="$(readlink -f "$(dirname "$out")")/$(basename "$out")" "file://$html" 2>/dev/null
rm -rf "$profile"
echo "wrote $out"
