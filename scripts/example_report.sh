#!/usr/bin/env bash
# Writes docs/example-report.md: one complete draft made by the whole workflow, from real
# parts — a local Prometheus (127.0.0.1 only) backfilled with synth's fix-mid-window
# scenario, heap snapshots and a --trace-gc log written by Node.js running
# tests/heap/node/leaky.js, that script's folder as --source, a Grafana dashboard —
# through init, attach and validate. The work folder's path is replaced by `incidents/`
# in the result, so the file does not name this machine.
# Usage: ./scripts/example_report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_prometheus
command -v node >/dev/null || { echo "error: node not found (Debian's nodejs)" >&2; exit 1; }
cargo build --workspace --locked --quiet
bin=${CARGO_TARGET_DIR:-target}/debug
repo=$PWD
work=$(mktemp -d)
trap 'kill ${PROM_PID:-} 2>/dev/null || true; rm -rf "$work"' EXIT
to=$(( ($(date +%s) - 4*3600) / 60 * 60 ))
from=$(( to - 24*3600 ))
"$bin"/synth --scenario fix-mid-window --service api --from "$from" --to "$to" -o "$work/data.om"
start_prometheus "$work" "$work/data.om"
mkdir -p "$work/incidents" "$work/heap"
(cd "$work/heap" && node --trace-gc "$repo/tests/heap/node/leaky.js" 20000,30000,30000 >trace-gc.log)
snapshots=$(tail -n 1 "$work/heap/trace-gc.log" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
export PROMETHEUS_URL=$PROM_URL
lc=$(realpath "$bin/leakcollect")
"$lc" init "$work/incidents/2026-10-api-leak.md" --service api --from "$from" --to "$to" --investigator "Sam Okafor" 2>/dev/null
"$lc" init "$work/incidents/api-leak.md" --service api --from "$from" --to "$to" \
  --fix-deployed auto --investigator "Dana Reyes"
(cd "$work/heap" && "$lc" attach "$work/incidents/api-leak.md" --heap $snapshots \
  --gc-log trace-gc.log --source "$repo/tests/heap/node" \
  --dashboard "$work/incidents/api-dashboard.json" --grafana-url http://grafana.example:3000)
"$lc" validate --draft "$work/incidents/api-leak.md" --grafana-url http://grafana.example:3000 >/dev/null || true
mkdir -p docs/example-report-assets
sed -e "s#$work/incidents/#incidents/#g" -e "s#$work/heap/#incidents/heap/#g" -e "s#$PWD/#./#g" \
  -e "s#$PROM_URL#http://prometheus.example:9090#g" -e "s#api-leak-assets/#example-report-assets/#g" \
  "$work/incidents/api-leak.md" >docs/example-report.md
cp "$work/incidents/api-leak-assets/"*.svg docs/example-report-assets/
echo "== wrote docs/example-report.md (and its charts in docs/example-report-assets/)" >&2
