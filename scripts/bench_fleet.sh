#!/usr/bin/env bash
# Benchmark 3: one service of 300 instances over 7 days at 1-minute samples. leakcollect
# end to end vs a parallel curl of exactly the queries it sends (the floor), alternating
# runs on the same local Prometheus; leakcollect's peak RSS; and the growth it finds
# against the 120 MB/h the data was generated with.
# Usage: ./scripts/bench_fleet.sh [instances] [days] [runs]   (defaults: 300 7 5)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
instances=${1:-300}
days=${2:-7}
runs=${3:-5}

ensure_prometheus
cargo build --release --locked --quiet
bin=target/release/leakcollect
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

# On a 6 h grid, so that each piece fills whole 2 h blocks and no two pieces overlap.
piece=$((6 * 3600))
to=$(( ($(date +%s) - 4*3600) / piece * piece ))
from=$(( to - days*86400 ))
# promtool reads its whole input once per 2 h block, so a week of a large fleet is
# generated and loaded 6 h at a time (the same data as one run would give).
load_start=$(now_ms)
for ((a = from; a < to; a += piece)); do
  b=$((a + piece)); [ "$b" -ge "$to" ] && b=$((to + 1))
  "$bin" synth --scenario oom-sawtooth --service api --instances "$instances" --interval 60s \
    --from "$from" --to "$to" --only-times "$a" "$b" -o "$work/piece.om"
  promtool tsdb create-blocks-from openmetrics -q "$work/piece.om" "$work/tsdb" >/dev/null
  rm -f "$work/piece.om"
done
load_s=$(( ($(now_ms) - load_start) / 1000 ))
serve_prometheus "$work"
# Let Prometheus finish compacting the backfilled blocks before anything is timed.
blocks() { curl -fsS "$PROM_URL/metrics" | awk '/^prometheus_tsdb_blocks_loaded /{print $2}'; }
last=""; same=0
while [ "$same" -lt 3 ]; do
  sleep 10; now=$(blocks)
  if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last=$now; fi
done

args=(--prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" --quiet --format json)
"$bin" "${args[@]}" >"$work/evidence.json"
floor_curls "$work/evidence.json" "$PROM_URL" >"$work/curls"
tool_run() { "$bin" "${args[@]}" >/dev/null; }
run_floor "$work/curls"; tool_run
: >"$work/floor.ms"; : >"$work/tool.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); run_floor "$work/curls"; t1=$(now_ms); echo $((t1 - t0)) >>"$work/floor.ms"
  t0=$(now_ms); tool_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
done
rss_kb=$(peak_rss_kb "$bin" "${args[@]}")
f=$(median "$work/floor.ms"); t=$(median "$work/tool.ms")
python3 - "$work/evidence.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
w = e["periods"]["window"]
print("step %d s; %d instances seen; growth %.2f MB/h (generated: 120 MB/h); %d OOM kills; requests per query: %s"
      % (e["window"]["step_seconds"], w["instance_count"], w["growth_bytes_per_hour"] / 1e6,
         w["oom_kills"] or 0, sorted({q.get("requests", 1) for q in e["queries"]})))
PY
echo "data: $instances instances x $days days at 60 s, generated and loaded in ${load_s} s; $(wc -l <"$work/curls") requests"
echo "floor (parallel curl, 8 at once): median ${f} ms over $runs runs"
echo "leakcollect end to end:           median ${t} ms over $runs runs (peak RSS ${rss_kb} KB)"
python3 -c "print('ratio leakcollect / floor: %.2fx' % ($t / $f))"
