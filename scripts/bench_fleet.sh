#!/usr/bin/env bash
# Benchmark 3: fleet scale. One service, 300 instances × 7 days at 1-minute samples
# (oom-sawtooth: 120 MB/h per lifetime, OOM-killed every 3 h). leakcollect collect end to
# end vs the floor — a parallel curl (8 at once) of exactly the requests it sent (a record
# served from its request cache sent none) — on the same local Prometheus, alternating
# runs; leakcollect's peak RSS; and what it sent: requests, cache hits, identical requests
# sent twice and range requests whose evaluation grids overlap (the same points twice).
# BENCH_BIN=PATH measures another leakcollect build; binaries come from $CARGO_TARGET_DIR
# when it is set.
#
# Usage: ./scripts/bench_fleet.sh [runs] [instances] [days]   (defaults: 7 runs, 300, 7)
#
# Loading: the OpenMetrics text for 300 × 7 days is ~16 GB, so it is generated and
# backfilled in 2-hour pieces (synth --only-times, aligned to promtool's 2 h blocks so no
# two blocks overlap), two pieces at a time, each .om deleted once loaded: disk stays
# under ~0.5 GB. Prometheus then compacts the 2 h blocks; the script waits for that to
# finish before measuring. The loaded TSDB is kept in $BENCH_FLEET_DIR (default
# target/bench-fleet) and reused by later runs with the same parameters; delete the
# folder to load again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
runs=${1:-7}
instances=${2:-300}
days=${3:-7}
dir=${BENCH_FLEET_DIR:-target/bench-fleet}

ensure_prometheus
cargo build --release --locked --quiet --workspace
# BENCH_BIN: another leakcollect build to measure (e.g. the one before a change).
bin=${BENCH_BIN:-$(release_dir)/leakcollect}
synth=$(release_dir)/synth
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true' EXIT

params="oom-sawtooth instances=$instances days=$days interval=60s"
if [ -f "$dir/loaded" ] && [ "$(sed -n 1p "$dir/loaded")" = "$params" ] && ls "$dir/tsdb"/01* >/dev/null 2>&1; then
  read -r from to <<<"$(sed -n 2p "$dir/loaded")"
  echo "== reusing the TSDB in $dir ($params, loaded $(sed -n 3p "$dir/loaded"))"
else
  df -h "$dir" | tail -1 | awk '{print "== disk free where the TSDB goes: " $4}'
  rm -rf "$dir/tsdb" "$dir/pieces" "$dir/loaded"
  mkdir -p "$dir/tsdb" "$dir/pieces"
  # A window on the 2 h grid, ending a few hours ago.
  to=$(( ($(date +%s) - 4*3600) / 7200 * 7200 ))
  from=$(( to - days*86400 ))
  echo "== loading $params: $((days*12)) pieces of 2 h, 2 at a time"
  t0=$(now_ms)
  seq "$from" 7200 $((to - 1)) | xargs -P 2 -I{} sh -c '
    set -e
    bin=$1; dir=$2; from=$3; to=$4; n=$5; at=$6
    end=$((at + 7200)); [ "$end" -ge "$to" ] && end=$((to + 1))
    "$bin" --scenario oom-sawtooth --service api --instances "$n" --interval 60s \
      --from "$from" --to "$to" --only-times "$at" "$end" -o "$dir/pieces/$at.om"
    wc -c <"$dir/pieces/$at.om" >"$dir/pieces/$at.bytes"
    promtool tsdb create-blocks-from openmetrics -q "$dir/pieces/$at.om" "$dir/tsdb" >/dev/null
    rm -f "$dir/pieces/$at.om"
  ' _ "$synth" "$dir" "$from" "$to" "$instances" {}
  t1=$(now_ms)
  om_bytes=$(cat "$dir"/pieces/*.bytes | awk '{s+=$1} END {print s}')
  rm -rf "$dir/pieces"
  echo "== generated and backfilled $(awk -v b="$om_bytes" 'BEGIN {printf "%.1f GB", b/1e9}') of OpenMetrics in $(( (t1 - t0) / 1000 )) s; TSDB $(du -sh "$dir/tsdb" | cut -f1), $(ls "$dir/tsdb" | grep -c '^01') blocks"
  finish_loading "$dir" "$params" "$from" "$to"
fi

serve_prometheus "$dir"
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

args=(--prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" --quiet --format json)
"$bin" "${args[@]}" >"$work/evidence.json"
floor_curls "$work/evidence.json" "$PROM_URL" >"$work/curls"
nq=$(wc -l <"$work/curls")
# What the answers weigh: each request once, its body's size.
bytes=$(while IFS= read -r line; do eval "$line -w '%{size_download}\n'"; done <"$work/curls" | awk '{s+=$1} END {print s}')

tool_run() { "$bin" "${args[@]}" >/dev/null; }
# Warm both paths (page cache, Prometheus chunk cache).
run_floor "$work/curls"; tool_run
: >"$work/floor.ms"; : >"$work/tool.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); run_floor "$work/curls"; t1=$(now_ms); echo $((t1 - t0)) >>"$work/floor.ms"
  t0=$(now_ms); tool_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
done
: >"$work/rss"
for _ in 1 2 3; do peak_rss_kb "$bin" "${args[@]}" >>"$work/rss"; done
rss_kb=$(median "$work/rss")
f=$(median "$work/floor.ms"); t=$(median "$work/tool.ms")
python3 - "$work/evidence.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
w = e["periods"]["window"]
print("window: %s to %s, step %s s; %d instances, %d restarts; growth %.1f MB/h per instance (truth 120)"
      % (w["from"], w["to"], e["window"]["step_seconds"], w["instance_count"], w["restarts"],
         w["growth_bytes_per_hour"] / 1e6))
PY
echo "$(request_stats "$work/evidence.json") ($instances instances, $days days, 60 s samples); the floor replays $nq, $(awk -v b="$bytes" 'BEGIN {printf "%.1f MB", b/1e6}') of answers"
echo "floor (parallel curl, 8 at once): median ${f} ms over $runs runs [$(sort -n "$work/floor.ms" | tr '\n' ' ')]"
echo "leakcollect end to end:           median ${t} ms over $runs runs [$(sort -n "$work/tool.ms" | tr '\n' ' ')]"
echo "leakcollect peak RSS:             median ${rss_kb} KB over 3 runs [$(sort -n "$work/rss" | tr '\n' ' ')] (goal <= 150 MB)"
python3 -c "print('ratio leakcollect / floor: %.2fx (goal <= 1.15x)' % ($t / $f))"
if [ -n "${BENCH_KEEP:-}" ]; then cp "$work/evidence.json" "$work/curls" "$BENCH_KEEP"/; fi
