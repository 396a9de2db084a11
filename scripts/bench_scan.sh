#!/usr/bin/env bash
# Benchmark 4: `scan` over a fleet of 200 services (3 instances each, 24 h at 1-minute
# samples; every 8th leaks steadily, every 8th from the 4th leaks with OOM kills, the
# rest are flat). Wall time and peak RSS, and a check that scan flags exactly the
# leaking services.
# Usage: ./scripts/bench_scan.sh [services] [runs]   (defaults: 200 5)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
services=${1:-200}
runs=${2:-5}

ensure_prometheus
cargo build --release --locked --quiet
bin=target/release/leakcollect
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

piece=$((6 * 3600))
to=$(( ($(date +%s) - 4*3600) / piece * piece ))
from=$(( to - 86400 ))
scenario_of() {
  case $(($1 % 8)) in
    0) echo steady-leak ;;
    4) echo oom-sawtooth ;;
    *) echo no-leak ;;
  esac
}
load_start=$(now_ms)
for ((a = from; a < to; a += piece)); do
  b=$((a + piece)); [ "$b" -ge "$to" ] && b=$((to + 1))
  : >"$work/piece.om"
  for i in $(seq 0 $((services - 1))); do
    "$bin" synth --scenario "$(scenario_of "$i")" --service "svc-$i" --instances 3 --interval 60s \
      --from "$from" --to "$to" --only-times "$a" "$b" -o "$work/one.om"
    grep -v '^# EOF' "$work/one.om" >>"$work/piece.om"
  done
  echo '# EOF' >>"$work/piece.om"
  promtool tsdb create-blocks-from openmetrics -q "$work/piece.om" "$work/tsdb" >/dev/null
done
rm -f "$work/piece.om" "$work/one.om"
load_s=$(( ($(now_ms) - load_start) / 1000 ))
serve_prometheus "$work"
blocks() { curl -fsS "$PROM_URL/metrics" | awk '/^prometheus_tsdb_blocks_loaded /{print $2}'; }
last=""; same=0
while [ "$same" -lt 3 ]; do
  sleep 10; now=$(blocks)
  if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last=$now; fi
done

args=(scan --prometheus-url "$PROM_URL" --from "$from" --to "$to" --format json)
"$bin" "${args[@]}" >"$work/scan.json"
: >"$work/tool.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); "$bin" "${args[@]}" >/dev/null; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
done
rss_kb=$(peak_rss_kb "$bin" "${args[@]}")
python3 - "$work/scan.json" "$services" <<'PY'
import json, sys
scan = json.load(open(sys.argv[1])); n = int(sys.argv[2])
expected = {"svc-%d" % i for i in range(n) if i % 8 in (0, 4)}
flagged = {r["service"] for r in scan["services"] if r["flag"] == "leaking"}
print("%d services ranked; %d flagged leaking, %d expected; missed %s, wrongly flagged %s"
      % (len(scan["services"]), len(flagged), len(expected), sorted(expected - flagged), sorted(flagged - expected)))
if flagged != expected:
    sys.exit("error: scan did not flag exactly the leaking services")
PY
echo "data: $services services x 3 instances x 24 h at 60 s, generated and loaded in ${load_s} s"
echo "scan: median $(median "$work/tool.ms") ms over $runs runs, peak RSS ${rss_kb} KB"
