#!/usr/bin/env bash
# Benchmark 5: `leakcollect heap` vs memlab's `find-leaks` on the same three V8 heap
# snapshots, at three sizes. tests/heap/node/leaky.js (LEAKY_HEADERS=12) handles 1,000
# requests, snapshots, 1,000 more, snapshots, then N more and snapshots: the last
# snapshot holds N + 2,000 leaked request contexts (N = 15,000, 50,000, 150,000: about
# 30, 100 and 300 MB). Both tools must find the same leak: 1,000 LeakyRequestContext and
# 1,000 CachedSession allocated between snapshots 1 and 2 and still alive in 3.
# Wall time and peak RSS from /usr/bin/time -v, one run each (memlab takes minutes).
#
# Usage: ./scripts/bench_heap.sh [N…]    (default: 15000 50000 150000)
# memlab is installed in a temporary folder (PUPPETEER_SKIP_DOWNLOAD=1 npm install
# --ignore-scripts memlab); it runs with --max-old-space-size=16384 (its own launcher
# asks for 4096 MB, too little for the largest trio).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(15000 50000 150000)
command -v node >/dev/null || { echo "error: node not found" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
cargo build --release --locked --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/leakcollect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== installing memlab in $work/memlab" >&2
mkdir -p "$work/memlab"
(cd "$work/memlab" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --ignore-scripts --no-audit --no-fund --loglevel=error memlab >/dev/null)
memlab="$work/memlab/node_modules/memlab/bin/memlab"
memlab_version=$(cd "$work/memlab" && node -p 'require("memlab/package.json").version')

# measure LABEL CMD… → prints "seconds kB" of the command (output to $work/LABEL.out).
measure() {
  local label=$1
  shift
  /usr/bin/time -v -o "$work/$label.time" "$@" >"$work/$label.out" 2>&1 </dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$label.time")
  echo "$wall $rss"
}

printf '%-8s %10s %9s %9s %11s %9s %11s %7s %7s %s\n' N last_MB lc_s lc_MB memlab_s memlab_MB speedup rss_x agree detail
for n in "${sizes[@]}"; do
  snaps="$work/snaps-$n"
  mkdir -p "$snaps"
  files=$(cd "$snaps" && LEAKY_HEADERS=12 node "$OLDPWD/tests/heap/node/leaky.js" "1000,1000,$n" \
    | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
  read -r s1 s2 s3 <<<"$files"
  s1=$snaps/$s1 s2=$snaps/$s2 s3=$snaps/$s3
  last_mb=$(( $(stat -c %s "$s3") / 1000000 ))
  read -r lc_s lc_kb < <(measure "lc-$n" "$bin" heap -q --format json "$s1" "$s2" "$s3")
  read -r ml_s ml_kb < <(measure "memlab-$n" node --expose-gc --max-old-space-size=16384 "$memlab" \
    find-leaks --baseline "$s1" --target "$s2" --final "$s3" --trace-all-objects --work-dir "$work/memlab-work-$n")
  # Agreement: leakcollect's suspects and their counts; memlab's clusters (count, leaf type).
  agree=$(python3 - "$work/lc-$n.out" "$work/memlab-$n.out" <<'PY'
import json, re, sys
lc = json.load(open(sys.argv[1]))
ours = {s["name"]: s["count"] for s in lc["suspects"]}
text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", open(sys.argv[2], errors="replace").read())
clusters = []
for block in text.split("--Similar leaks in this run: ")[1:]:
    count = int(block.split("--", 1)[0])
    trace = block.split("\n\n")[0]
    types = re.findall(r"--->\s+\[([^\]]+)\] \((\w+)\)", trace)
    edges = re.findall(r"--([^ ]+) \((\w+)\)--->", trace)
    clusters.append((count, [t for t, _ in types], [e for e, _ in edges]))
want = {"LeakyRequestContext": 1000, "CachedSession": 1000}
ok_ours = all(ours.get(k) == v for k, v in want.items())
# memlab shows one representative object per cluster (the context, the closure or the
# LeakyRequestContext): the same leak is a cluster whose trace goes through the same
# retainers, `_events`→`request` and `sessionCache`→`table`.
ok_memlab = any("_events" in e and "request" in e for _, _, e in clusters) and any(
    "sessionCache" in e and "table" in e for _, _, e in clusters
)
summary = "; ".join(f"{c}×…{'→'.join(t[-2:])}" for c, t, _ in clusters[:4])
print(("yes" if ok_ours and ok_memlab else "NO"), f"ours={ours} memlab=[{summary}]")
PY
)
  speed=$(python3 -c "print(f'{$ml_s / max($lc_s, 0.01):.1f}x')")
  rss=$(python3 -c "print(f'{$ml_kb / $lc_kb:.1f}x')")
  printf '%-8s %10s %9s %9s %11s %9s %11s %7s %s\n' "$n" "$last_mb" "$lc_s" "$((lc_kb / 1000))" "$ml_s" "$((ml_kb / 1000))" "$speed" "$rss" "$agree"
done
echo "memlab $memlab_version, node $(node --version), leakcollect $(git rev-parse --short HEAD)"
