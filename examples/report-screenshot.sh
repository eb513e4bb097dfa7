#!/usr/bin/env bash
# Renders the HTML usage report in headless Chromium, saves an A4-width
# screenshot and a PDF print, and fails if the page logged any console error
# or tried to reach the network (the page must be self-contained).
#
# Usage: examples/report-screenshot.sh [REPORT.html] [OUT_DIR]
#   Without REPORT.html it builds a demo database (the test dataset of
#   tests/reports.rs is not reused: a few synthetic cases from the benchmark
#   generator) and renders its report.
# Needs Debian's `chromium` package (apt-get install -y chromium).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
html="${1:-}"
out="${2:-$here/target/report-screenshot}"
mkdir -p "$out"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
  echo "chromium is not installed: apt-get install -y chromium" >&2
  exit 2
fi

if [ -z "$html" ]; then
  cargo build --quiet --release --manifest-path "$here/Cargo.toml" --example bench_report --bin siso
  db="$out/demo.db"
  rm -f "$db" "$db-wal" "$db-shm"
  "$here/target/release/examples/bench_report" --backend sqlite --url "sqlite:$db" --cartelle 3000 --ambiti 3 --comuni 6 >/dev/null 2>&1
  html="$out/usage.html"
  SISO_DATABASE_URL="sqlite:$db" "$here/target/release/siso" report usage --ambito AMB-BENCH-000 --year 2024 \
    --format html --out "$html" -q
fi

# Self-contained: no URL, no script, no external style or font.
if grep -Eq 'https?://|<script|<link|@import|url\(' "$html"; then
  echo "$html is not self-contained" >&2
  exit 1
fi

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --no-first-run --hide-scrollbars
       --enable-logging=stderr --v=0)
log="$out/chromium.log"
"$browser" "${flags[@]}" --window-size=1240,1754 --screenshot="$out/usage.png" "file://$html" 2>"$log" || true
"$browser" "${flags[@]}" --print-to-pdf="$out/usage.pdf" --no-pdf-header-footer "file://$html" 2>>"$log" || true

# Console messages reach stderr as "CONSOLE(...)" / ":INFO:CONSOLE" lines.
if grep -E 'CONSOLE|Uncaught|ERR_' "$log" | grep -v 'dbus' ; then
  echo "the page logged console errors (see $log)" >&2
  exit 1
fi
for f in usage.png usage.pdf; do
  if [ ! -s "$out/$f" ]; then
    echo "chromium produced no $f (see $log)" >&2
    exit 1
  fi
done
echo "rendered without console errors: $out/usage.png, $out/usage.pdf"
