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
cargo build --release --locked --quiet
bin=target/release/leakcollect
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
"$bin" synth --scenario oom-sawtooth --service api --instances "$instances" --interval 15s \
  --from "$from" --to "$to" -o "$work/data.om"
start_prometheus "$work" "$work/data.om"

args=(--prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" --quiet --format json)
"$bin" "${args[@]}" >"$work/evidence.json"
tool_run() { "$bin" "${args[@]}" >"$work/tool.json"; }
python_run() { "$py" scripts/bench_python.py "$work/evidence.json" "$PROM_URL" >"$work/python.json"; }
tool_run; python_run
: >"$work/python.ms"; : >"$work/tool.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); python_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/python.ms"
  t0=$(now_ms); tool_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
done
tool_rss=$(peak_rss_kb "$bin" "${args[@]}")
python_rss=$(peak_rss_kb "$py" scripts/bench_python.py "$work/evidence.json" "$PROM_URL")
p=$(median "$work/python.ms"); t=$(median "$work/tool.ms")
python3 - "$work/tool.json" "$work/python.json" <<PY
import json, sys
tool = json.load(open(sys.argv[1]))["periods"]["window"]["growth_bytes_per_hour"]
python = json.load(open(sys.argv[2]))["growth_bytes_per_hour"]
print("growth: leakcollect %.3f MB/h, Python %.3f MB/h (%.2f %% apart)" % (tool / 1e6, python / 1e6, abs(tool - python) / abs(tool) * 100))
if abs(tool - python) > 0.01 * abs(tool):
    sys.exit("error: the two figures differ by more than 1 %; the comparison is void")
PY
echo "24 h window, $instances instances, 15 s samples, $(python3 -c "import json;print(len(json.load(open('$work/evidence.json'))['queries']))") requests each"
echo "Python (prometheus-api-client + numpy): median ${p} ms over $runs runs, peak RSS ${python_rss} KB"
echo "leakcollect end to end:                 median ${t} ms over $runs runs, peak RSS ${tool_rss} KB"
python3 -c "print('leakcollect is %.1fx faster and uses %.1fx less memory' % ($p / $t, $python_rss / $tool_rss))"
