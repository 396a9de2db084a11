#!/usr/bin/env bash
# Runs one leakcollect binary over fixed synthetic scenarios on a real Prometheus and
# writes its JSON (collect, collect with a fix, validate, scan) into OUT_DIR, with the
# run-dependent fields (generated_at, checked_at, tool_version) blanked. Run it with the
# binary before and after a refactor and `diff -r` the two folders.
# Usage: ./scripts/json_compare.sh BINARY OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(realpath "$1"); out=$2
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $PROM_PID 2>/dev/null || true; rm -rf "$work"' EXIT
synth=${SYNTH_BIN:-target/debug/synth}
# Fixed past windows: backfilled blocks must be older than Prometheus's head.
to=1790000000; from=$(( to - 24*3600 )); fix=$(( from + 12*3600 ))
: >"$work/all.om"
for s in steady-leak oom-sawtooth fix-mid-window no-leak; do
  "$synth" --scenario "$s" --service "$s" --from "$from" --to "$to" -o "$work/$s.om"
  grep -v '^# EOF' "$work/$s.om" >>"$work/all.om"
done
echo '# EOF' >>"$work/all.om"
start_prometheus "$work" "$work/all.om"
strip() { python3 -c '
import json,sys
def walk(v):
    if isinstance(v, dict):
        return {k: ("-" if k in ("generated_at","checked_at","tool_version","prometheus_url") else walk(x)) for k,x in v.items()}
    if isinstance(v, list): return [walk(x) for x in v]
    if isinstance(v, str): return v.replace(sys.argv[1], "URL")
    return v
print(json.dumps(walk(json.load(sys.stdin)), indent=1, sort_keys=True))' "$PROM_URL"; }
run() { local name=$1; shift; "$bin" "$@" --prometheus-url "$PROM_URL" -q >"$work/raw.json" || true; strip <"$work/raw.json" >"$out/$name.json"; }
for s in steady-leak oom-sawtooth fix-mid-window no-leak; do
  run "collect-$s" collect --service "$s" --from "$from" --to "$to" --format json
  run "fix-$s" collect --service "$s" --from "$from" --to "$to" --fix-deployed "$fix" --format json
  run "validate-$s" validate --service "$s" --from "$from" --to "$to" --fix-deployed "$fix" --format json
done
run scan scan --from "$from" --to "$to" --format json
ls "$out" | wc -l
