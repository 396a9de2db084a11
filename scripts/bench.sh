#!/usr/bin/env bash
# Benchmark 1: leakcollect end to end vs a parallel curl of exactly the queries it sends
# (the floor), against the same local Prometheus, alternating runs.
# Usage: ./scripts/bench.sh [runs] [instances]     (defaults: 15 runs, 10 instances)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
runs=${1:-15}
instances=${2:-10}

ensure_prometheus
cargo build --release --locked --quiet --workspace
bin=target/release/leakcollect
synth=target/release/synth
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

to=$(( ($(date +%s) - 4*3600) / 60 * 60 ))
from=$(( to - 24*3600 ))
"$synth" --scenario oom-sawtooth --service api --instances "$instances" --interval 15s \
  --from "$from" --to "$to" -o "$work/data.om"
start_prometheus "$work" "$work/data.om"

args=(--prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" --quiet)
"$bin" "${args[@]}" --format json >"$work/evidence.json"
floor_curls "$work/evidence.json" "$PROM_URL" >"$work/curls"
nq=$(wc -l <"$work/curls")

tool_run() { "$bin" "${args[@]}" --format json >/dev/null; }
# Warm both paths (page cache, Prometheus chunk cache).
run_floor "$work/curls"; tool_run
: >"$work/floor.ms"; : >"$work/tool.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); run_floor "$work/curls"; t1=$(now_ms); echo $((t1 - t0)) >>"$work/floor.ms"
  t0=$(now_ms); tool_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
done
rss_kb=$(peak_rss_kb "$bin" "${args[@]}" --format json)
f=$(median "$work/floor.ms"); t=$(median "$work/tool.ms")
echo "requests: $nq (24 h window, $instances instances, 15 s samples, step $(python3 -c "import json;print(json.load(open('$work/evidence.json'))['window']['step_seconds'])") s)"
echo "floor (parallel curl, 8 at once): median ${f} ms over $runs runs"
echo "leakcollect end to end:           median ${t} ms over $runs runs (peak RSS ${rss_kb} KB)"
python3 -c "print('ratio leakcollect / floor: %.2fx' % ($t / $f))"
