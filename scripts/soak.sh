#!/usr/bin/env bash
# Soak: for a bounded time, run `validate --draft` every few seconds against a real local
# Prometheus while `attach` runs hit the same draft concurrently. Fails on a crash
# (an exit code other than a verdict), a leftover temp file, a draft that no longer
# parses, or memory that grows from run to run. Usage: ./scripts/soak.sh [seconds] [interval]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
duration=${1:-180}
interval=${2:-2}

ensure_prometheus
cargo build --release --locked --quiet --workspace
bin=$PWD/target/release/leakcollect
synth=$PWD/target/release/synth
work=$(mktemp -d)
trap 'kill ${PROM_PID:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

to=$(( ($(date +%s) - 4*3600) / 60 * 60 ))
from=$(( to - 24*3600 ))
fix=$(( from + 12*3600 ))
"$synth" --scenario fix-mid-window --service api --from "$from" --to "$to" -o "$work/data.om"
start_prometheus "$work" "$work/data.om"
export PROMETHEUS_URL=$PROM_URL
mkdir "$work/drafts"
draft="$work/drafts/api.md"
"$bin" init "$draft" --service api --from "$from" --to "$to" --fix-deployed "$fix" 2>/dev/null

end=$(( $(date +%s) + duration ))
runs=0; attaches=0; bad=0
: >"$work/rss.kb"
while [ "$(date +%s)" -lt "$end" ]; do
  # Two concurrent attaches with different windows, and one validate, on the same draft.
  "$bin" attach "$draft" -q --to "$to" & a1=$!
  "$bin" attach "$draft" -q --to "$(( to - 600 ))" --force & a2=$!
  /usr/bin/time -f '%M' -o "$work/time.out" "$bin" validate --draft "$draft" --force -q >/dev/null && rc=0 || rc=$?
  for p in $a1 $a2; do wait "$p" || { echo "attach failed (exit $?)"; bad=$((bad + 1)); }; done
  attaches=$((attaches + 2))
  case $rc in 0|1|3) ;; *) echo "validate exit $rc"; bad=$((bad + 1)) ;; esac
  tail -1 "$work/time.out" >>"$work/rss.kb"
  leftovers=$(find "$work/drafts" -name '.leakcollect-*' | wc -l)
  [ "$leftovers" -eq 0 ] || { echo "leftover temp files: $leftovers"; bad=$((bad + 1)); }
  "$bin" attach "$draft" --check -q --to "$to" >/dev/null 2>&1 || true
  grep -c 'leakcollect:begin' "$draft" >/dev/null || { echo "draft lost its blocks"; bad=$((bad + 1)); }
  runs=$((runs + 1))
  sleep "$interval"
done
rows=$(grep -c '^| 20.* | resolved |$' "$draft" || true)
first=$(head -1 "$work/rss.kb"); last=$(tail -1 "$work/rss.kb"); max=$(sort -n "$work/rss.kb" | tail -1)
echo "validate runs: $runs, concurrent attach runs: $attaches, failures: $bad"
echo "validation rows in the draft: $rows (one per validate run: $([ "$rows" -eq "$runs" ] && echo yes || echo NO))"
echo "validate peak RSS: first ${first} KB, last ${last} KB, max ${max} KB"
echo "files in the draft folder: $(ls -A "$work/drafts" | tr '\n' ' ')"
[ "$bad" -eq 0 ] && [ "$rows" -eq "$runs" ]
