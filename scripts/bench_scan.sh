#!/usr/bin/env bash
# Benchmark 4: `leakcollect scan` over a fleet of 200 Node.js services × 3 instances × 24 h
# at 60 s samples, a mix of scenarios (per 10 services: 2 steady-leak, 1 oom-sawtooth,
# 1 fix-mid-window, 6 no-leak). Checks that scan flags exactly the leaking ones (every
# steady-leak, oom-sawtooth and fix-mid-window service `leaking`, every no-leak one `ok`),
# and measures scan's wall time and peak RSS against a floor: a parallel curl (8 at once)
# of the requests scan sent, from its JSON's `queries` (one series-API call over every
# pack's marker metrics, then the Node.js pack's memory and restart range queries at
# scan's step).
#
# Usage: ./scripts/bench_scan.sh [runs] [services]   (defaults: 9 runs, 200 services)
#
# Loading: per 2 h piece (promtool's block size, so blocks do not overlap), each service's
# synth output is generated (--only-times), concatenated into one OpenMetrics file and
# backfilled; the .om files are deleted as they are loaded. The TSDB is kept in
# $BENCH_SCAN_DIR (default target/bench-scan) and reused with the same parameters.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
runs=${1:-9}
services=${2:-200}
dir=${BENCH_SCAN_DIR:-target/bench-scan}

ensure_prometheus
cargo build --release --locked --quiet --workspace
bin=$PWD/target/release/leakcollect
synth=$PWD/target/release/synth
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true' EXIT

scenario_of() {
  case $(( $1 % 10 )) in
    0 | 1) echo steady-leak ;;
    2) echo oom-sawtooth ;;
    3) echo fix-mid-window ;;
    *) echo no-leak ;;
  esac
}

params="services=$services instances=3 hours=24 interval=60s mix=2steady,1oom,1fix,6none"
if [ -f "$dir/loaded" ] && [ "$(sed -n 1p "$dir/loaded")" = "$params" ] && ls "$dir/tsdb"/01* >/dev/null 2>&1; then
  read -r from to <<<"$(sed -n 2p "$dir/loaded")"
  echo "== reusing the TSDB in $dir ($params, loaded $(sed -n 3p "$dir/loaded"))"
else
  rm -rf "$dir/tsdb" "$dir/pieces" "$dir/loaded" "$dir/services"
  mkdir -p "$dir/tsdb" "$dir/pieces"
  to=$(( ($(date +%s) - 4*3600) / 7200 * 7200 ))
  from=$(( to - 24*3600 ))
  for i in $(seq 0 $((services - 1))); do
    printf 'svc-%03d %s\n' "$i" "$(scenario_of "$i")"
  done >"$dir/services"
  echo "== loading $params: 12 pieces of 2 h × $services services"
  t0=$(now_ms)
  om_bytes=0
  for at in $(seq "$from" 7200 $((to - 1))); do
    end=$((at + 7200)); [ "$end" -ge "$to" ] && end=$((to + 1))
    mkdir -p "$dir/pieces/$at"
    xargs -P 2 -L 1 sh -c '"$0" --scenario "$2" --service "$1" --instances 3 \
      --interval 60s --from "$3" --to "$4" --only-times "$5" "$6" -o "$7/$1.om"' \
      "$synth" <<<"$(awk -v f="$from" -v t="$to" -v a="$at" -v e="$end" -v d="$dir/pieces/$at" \
        '{print $1, $2, f, t, a, e, d}' "$dir/services")"
    # One file per piece: the services' families one after another, a single # EOF.
    { cat "$dir/pieces/$at"/*.om | grep -v '^# EOF'; echo '# EOF'; } >"$dir/pieces/$at.om"
    rm -rf "$dir/pieces/$at"
    om_bytes=$((om_bytes + $(wc -c <"$dir/pieces/$at.om")))
    promtool tsdb create-blocks-from openmetrics -q "$dir/pieces/$at.om" "$dir/tsdb" >/dev/null
    rm -f "$dir/pieces/$at.om"
  done
  t1=$(now_ms)
  rm -rf "$dir/pieces"
  echo "== generated and backfilled $(awk -v b="$om_bytes" 'BEGIN {printf "%.2f GB", b/1e9}') of OpenMetrics in $(( (t1 - t0) / 1000 )) s; TSDB $(du -sh "$dir/tsdb" | cut -f1)"
  finish_loading "$dir" "$params" "$from" "$to"
fi

serve_prometheus "$dir"
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

args=(scan --prometheus-url "$PROM_URL" --selector 'namespace="prod"' --from "$from" --to "$to" --format json)
"$bin" "${args[@]}" >"$work/scan.json"

# The flags against the scenarios.
python3 - "$work/scan.json" "$dir/services" <<'PY'
import collections, json, sys
scan = json.load(open(sys.argv[1]))
truth = dict(line.split() for line in open(sys.argv[2]))
rows = {r["service"]: r for r in scan["services"]}
expected = {"steady-leak": "leaking", "oom-sawtooth": "leaking", "fix-mid-window": "leaking", "no-leak": "ok"}
table = collections.Counter((truth[s], rows[s]["flag"] if s in rows else "missing") for s in truth)
for (scenario, flag), n in sorted(table.items()):
    growth = [rows[s]["growth_bytes_per_hour"] / 1e6 for s in truth if truth[s] == scenario and s in rows and rows[s]["flag"] == flag]
    print("  %-15s -> %-8s %3d services (growth per instance %.1f to %.1f MB/h)"
          % (scenario, flag, n, min(growth), max(growth)) if growth else "  %-15s -> %-8s %3d" % (scenario, flag, n))
wrong = [s for s in truth if rows.get(s, {}).get("flag") != expected[truth[s]]]
extra = [s for s in rows if s not in truth]
print("scan rows: %d, step %s s, warnings: %d" % (len(rows), scan["step_seconds"], len(scan["warnings"])))
if wrong or extra:
    print("MISMATCH: %d services flagged other than their scenario: %s" % (len(wrong), " ".join(sorted(wrong)[:20])))
else:
    print("flags: every leaking service flagged `leaking`, every other `ok`")
PY

# The floor: the requests scan sent, as its JSON lists them.
floor_curls "$work/scan.json" "$PROM_URL" >"$work/curls"
tool_run() { "$bin" "${args[@]}" >/dev/null; }
# Scan needs the series call's answer before it can send the range queries; this floor
# keeps that order (the series call, then the range queries at once).
head -1 "$work/curls" >"$work/curls.first"; tail -n +2 "$work/curls" >"$work/curls.rest"
ordered_floor() { run_floor "$work/curls.first"; run_floor "$work/curls.rest"; }
run_floor "$work/curls"; ordered_floor; tool_run
: >"$work/floor.ms"; : >"$work/ordered.ms"; : >"$work/tool.ms"
for _ in $(seq 1 "$runs"); do
  t0=$(now_ms); run_floor "$work/curls"; t1=$(now_ms); echo $((t1 - t0)) >>"$work/floor.ms"
  t0=$(now_ms); tool_run; t1=$(now_ms); echo $((t1 - t0)) >>"$work/tool.ms"
  t0=$(now_ms); ordered_floor; t1=$(now_ms); echo $((t1 - t0)) >>"$work/ordered.ms"
done
: >"$work/rss"
for _ in 1 2 3; do peak_rss_kb "$bin" "${args[@]}" >>"$work/rss"; done
f=$(median "$work/floor.ms"); o=$(median "$work/ordered.ms"); t=$(median "$work/tool.ms"); rss_kb=$(median "$work/rss")
echo "fleet: $services services × 3 instances, 24 h, 60 s samples"
n=$(wc -l <"$work/curls")
echo "floor (curl of scan's $n requests, all at once): median ${f} ms over $runs runs [$(sort -n "$work/floor.ms" | tr '\n' ' ')]"
echo "floor, series call first:                        median ${o} ms over $runs runs [$(sort -n "$work/ordered.ms" | tr '\n' ' ')]"
echo "leakcollect scan end to end:                     median ${t} ms over $runs runs [$(sort -n "$work/tool.ms" | tr '\n' ' ')]"
echo "leakcollect scan peak RSS:                       median ${rss_kb} KB over 3 runs [$(sort -n "$work/rss" | tr '\n' ' ')]"
python3 -c "print('ratio scan / floor: %.2fx (all at once), %.2fx (series call first)' % ($t / $f, $t / $o))"
if [ -n "${BENCH_KEEP:-}" ]; then cp "$work/scan.json" "$work/curls" "$BENCH_KEEP"/; fi
