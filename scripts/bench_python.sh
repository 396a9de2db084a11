#!/usr/bin/env bash
# Benchmark 2: leakcollect vs a Python script with prometheus-api-client (PyPI) and numpy
# computing the same growth figure from the same queries (scripts/bench_python.py), on
# the same local Prometheus, alternating runs. Checks that both figures agree.
# Usage: ./scripts/bench_python.sh [runs] [instances]   (defaults: 9 runs, 10 instances)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
runs=${1:-9}
instances=${2:-10}

ensure_prometheus
cargo build --release --locked --quiet --workspace
bin=target/release/leakcollect
synth=target/release/synth
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q prometheus-api-client==0.7.2 numpy==2.4.6
fi
py="$venv/bin/python"
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

to=$(( ($(date +%s) - 4*3600) / 60 * 60 ))
from=$(( to - 24*3600 ))
"$synth" --scenario oom-sawtooth --service api --instances "$instances" --interval 15s \
  --from "$from" --to "$to" -o "$work/data.om"
start_prometheus "$work" "$work/data.om"

args=(--prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" --quiet --format json)
"$bin" "${args[@]}" >"$work/evidence.json"
tool_run() { "$bin" "${args[@]}" >"$work/tool.json"; }
python_run() { "$py" scripts/bench_python.py "$work/evidence.json" "$PROM_URL" >"$work/python.json"; }
# For context, the floor both sides share: a parallel curl of the same requests.
floor_curls "$work/evidence.json" "$PROM_URL" >"$work/curls"
tool_run; python_run; run_floor "$work/curls"
: >"$work/python.ms"; : >"$work/tool.ms"; : >"$work/floor.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); python_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/python.ms"
  t0=$(now_ms); tool_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
  t0=$(now_ms); run_floor "$work/curls"; t1=$(now_ms); echo $((t1 - t0)) >>"$work/floor.ms"
done
tool_rss=$(peak_rss_kb "$bin" "${args[@]}")
python_rss=$(peak_rss_kb "$py" scripts/bench_python.py "$work/evidence.json" "$PROM_URL")
p=$(median "$work/python.ms"); t=$(median "$work/tool.ms"); f=$(median "$work/floor.ms")
python3 - "$work/tool.json" "$work/python.json" <<'PY'
import json, sys
tool = json.load(open(sys.argv[1]))["periods"]["window"]
python = json.load(open(sys.argv[2]))
def apart(a, b):
    return abs(a - b) / abs(a) * 100
for name, t, p in [
    ("growth (median per instance)", tool["growth_bytes_per_hour"], python["growth_bytes_per_hour"]),
    ("growth total", tool["growth_bytes_per_hour_total"], python["growth_bytes_per_hour_total"]),
    ("95 % interval low", tool["growth_interval_bytes_per_hour"][0], python["growth_interval_bytes_per_hour"][0]),
    ("95 % interval high", tool["growth_interval_bytes_per_hour"][1], python["growth_interval_bytes_per_hour"][1]),
]:
    print("%-29s leakcollect %10.3f MB/h, Python %10.3f MB/h (%.2f %% apart)" % (name + ":", t / 1e6, p / 1e6, apart(t, p)))
print("instances / restarts:         leakcollect %d / %d, Python %d / %d"
      % (tool["instance_count"], tool["restarts"], python["instances"], python["restarts"]))
if apart(tool["growth_bytes_per_hour"], python["growth_bytes_per_hour"]) > 1:
    sys.exit("error: the two growth figures differ by more than 1 %; the comparison is void")
PY
echo "24 h window, $instances instances, 15 s samples, $(python3 -c "import json;print(len(json.load(open('$work/evidence.json'))['queries']))") requests each"
echo "Python (prometheus-api-client + numpy): median ${p} ms over $runs runs, peak RSS ${python_rss} KB"
echo "leakcollect end to end:                 median ${t} ms over $runs runs, peak RSS ${tool_rss} KB"
echo "floor (parallel curl of the same requests, 8 at once): median ${f} ms (context: both sides wait for this server time)"
python3 -c "print('leakcollect is %.1fx faster and uses %.1fx less memory' % ($p / $t, $python_rss / $tool_rss))"
