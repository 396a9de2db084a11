#!/usr/bin/env bash
# On a fresh machine: installs what the demo needs (Debian's prometheus and curl), builds
# leakcollect, starts a local Prometheus (127.0.0.1 only) loaded with a bundled demo of a
# leaking Node.js service that gets fixed half way, and writes a pre-filled report.
# Usage: ./scripts/demo.sh [--keep] [output.md]
#   --keep  leave that Prometheus running afterwards (for the report's links and the
#           README's draft workflow); the script prints its URL and how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
keep=0
if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
out=${1:-demo-report.md}

ensure_prometheus
echo "== building leakcollect (release; a first build takes several minutes)" >&2
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
if [ -f "$work/prometheus.pid" ]; then
  kill "$(cat "$work/prometheus.pid")" 2>/dev/null || true
  rm -f "$work/prometheus.pid"
fi
start_prometheus "$work" "$work/demo.om"
rm -f "$work/env"
if [ "$keep" = 1 ]; then
  echo "$PROM_PID" >"$work/prometheus.pid"
  # For the README's draft workflow: `. .demo/env` gives it this Prometheus, the demo's
  # window and fix (Unix seconds), and this build's leakcollect first on PATH.
  {
    printf 'export PROMETHEUS_URL=%q\n' "$PROM_URL"
    printf 'export DEMO_FROM=%q\n' "$from"
    printf 'export DEMO_TO=%q\n' "$to"
    printf 'export DEMO_FIX=%q\n' "$fix"
    printf 'export PATH=%q:"$PATH"\n' "$PWD/target/release"
  } >"$work/env"
else
  trap 'kill $PROM_PID 2>/dev/null || true' EXIT
fi
echo "== Prometheus with the demo data at $PROM_URL" >&2

"$bin" --prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" \
  --fix-deployed "$fix" -o "$out"
echo "== wrote $out and its charts in ${out%.md}-assets/ (also try: --format json)" >&2
echo "== the binary: $bin (or install it: cargo install --path . --locked)" >&2
if [ "$keep" = 1 ]; then
  cat >&2 <<TXT
== Prometheus keeps running at $PROM_URL (pid $PROM_PID). Try the README's draft
   workflow (. $work/env sets PROMETHEUS_URL, DEMO_FROM, DEMO_TO, DEMO_FIX and PATH), or:
     export PROMETHEUS_URL=$PROM_URL
     $bin init incidents/api-leak.md --service api --from $from --to $to --fix-deployed $fix
     $bin attach incidents/api-leak.md
     $bin validate --draft incidents/api-leak.md
     $bin attach incidents/api-leak.md --check
   Stop it with: kill \$(cat $work/prometheus.pid)
TXT
fi
