#!/usr/bin/env bash
# On a fresh machine: installs what is missing, builds leakcollect, starts a local
# Prometheus (127.0.0.1 only) loaded with a bundled demo of a leaking Node.js service
# that gets fixed half way, and writes a pre-filled report to demo-report.md.
# Usage: ./scripts/demo.sh [output.md]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
out=${1:-demo-report.md}

ensure_prometheus
echo "== building leakcollect (release)" >&2
cargo build --release --locked --workspace
bin=target/release/leakcollect
synth=target/release/synth

work=.demo
mkdir -p "$work"
# A 24 h incident window ending 4 h ago (backfilled data must not overlap Prometheus's head block).
to=$(( ($(date +%s) - 4*3600) / 60 * 60 ))
from=$(( to - 24*3600 ))
fix=$(( from + 12*3600 ))
"$synth" --scenario fix-mid-window --service api --from "$from" --to "$to" -o "$work/demo.om"
start_prometheus "$work" "$work/demo.om"
trap 'kill $PROM_PID 2>/dev/null || true' EXIT
echo "== Prometheus with the demo data at $PROM_URL" >&2

"$bin" --prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" \
  --fix-deployed "$fix" -o "$out"
echo "== wrote $out (also try: --format json)" >&2
