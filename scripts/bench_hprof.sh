#!/usr/bin/env bash
# Benchmark 6: `leakcollect heap` on a trio of JVM heap dumps (HPROF) of one JVM, about
# 0.6, 1.3 and 1.9 GB (~20 M objects in the largest), against `cat` of the same files
# (the floor: reading them). tests/heap/java/LeakDemo.java runs with ORDERS orders per
# round (each 6 objects: Order, its String and bytes, its payload, a HashMap node and a
# Long key) and writes a live dump (HotSpotDiagnosticMXBean.dumpHeap) after each round.
# Wall time and peak RSS from /usr/bin/time -v, one run each, files in the page cache
# (`cat` runs first). With a terminal on stderr, `leakcollect` shows its progress bar
# there; here its stderr goes to a file, as in CI.
#
# Usage: ./scripts/bench_hprof.sh [ORDERS_PER_ROUND [PAYLOAD_BYTES]]   (default 1100000 344)
# Needs Debian's openjdk-17-jdk-headless (installed if missing) and ~6 GB of free disk.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
orders=${1:-1100000}
payload=${2:-344}
ensure_debian java:openjdk-17-jdk-headless javac:openjdk-17-jdk-headless
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
cargo build --release --locked --quiet
bin=$(release_dir)/leakcollect
work=$(mktemp -d "${TMPDIR:-/tmp}/bench_hprof.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== writing three dumps of one JVM ($orders orders per round) in $work" >&2
javac -d "$work/classes" tests/heap/java/LeakDemo.java
java -Xms4g -Xmx4g -cp "$work/classes" com.shop.LeakDemo leaky 3 "$work/dump-" live "$orders" "$payload" >/dev/null
files=("$work/dump-1.hprof" "$work/dump-2.hprof" "$work/dump-3.hprof")

# measure LABEL CMD… → prints "seconds kB" of the command (output to $work/LABEL.out).
measure() {
  local label=$1
  shift
  /usr/bin/time -v -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err" </dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$label.time")
  echo "$wall $rss"
}

read -r cat_s cat_kb < <(measure cat cat "${files[@]}")
read -r lc_s lc_kb < <(measure leakcollect "$bin" heap "${files[@]}" --format json)
# How time and memory grow with the size: each dump alone (one dump: no comparison).
singles=()
for k in 1 2 3; do
  read -r s kb < <(measure "one$k" "$bin" heap "${files[$((k - 1))]}" --format json)
  read -r cs _ < <(measure "cat$k" cat "${files[$((k - 1))]}")
  singles+=("$s:$kb:$cs")
done
python3 - "$work" "$cat_s" "$cat_kb" "$lc_s" "$lc_kb" "${singles[*]}" "$orders" "${files[@]}" <<'PY'
import json, os, sys
work, cat_s, cat_kb, lc_s, lc_kb = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
singles = [tuple(float(x) for x in t.split(":")) for t in sys.argv[6].split()]
orders = int(sys.argv[7])
files = sys.argv[8:]
report = json.load(open(os.path.join(work, "leakcollect.out")))
sizes = [os.path.getsize(f) / 1e9 for f in files]
objects = [s["objects"] for s in report["snapshots"]]
order = next(g for g in report["growing"] if g["name"] == "com.shop.Order")
print("dumps (GB):        " + " / ".join("%.2f" % s for s in sizes) + " (%.2f in all)" % sum(sizes))
print("reachable objects: " + " / ".join("%.1f M" % (o / 1e6) for o in objects))
print("cat (floor):       %.1f s, %.1f MB peak RSS (%.2f GB/s)" % (cat_s, cat_kb / 1e3, sum(sizes) / max(cat_s, 0.01)))
print("leakcollect heap:  %.1f s, %.1f MB peak RSS (%.1fx the floor; %.0f ns per object, %.2f bytes of RSS per byte of the largest dump)" % (
    lc_s, lc_kb / 1e3, lc_s / max(cat_s, 0.01), lc_s * 1e9 / sum(objects), lc_kb * 1e3 / (sizes[-1] * 1e9)))
print("found:             com.shop.Order %+d instances first→last; technique %s (id check: %s); allocated between dumps 1 and 2 and alive in 3: %s (the program made %d a round); leaked object %s" % (
    order["count_delta"], report["technique"],
    "; ".join("%d→%d other %d, changed %d of %d" % (p["from"], p["to"], p["other"], p["changed"], p["shared"]) for p in report["id_check"]["pairs"]),
    order.get("allocated_between_first_two_alive_at_last", "left out"), orders, report["leaked_object"]))
for f, size, objs, (s, kb, cs) in zip(files, sizes, objects, singles):
    print("one dump alone:    %.2f GB, %.1f M objects: %.1f s (cat %.1f s), %.1f MB peak RSS (%.2f bytes of RSS per byte, %.0f bytes per object)" % (
        size, objs / 1e6, s, cs, kb / 1e3, kb * 1e3 / (size * 1e9), kb * 1e3 / objs))
print("goals:             ≤ 30 s %s, ≤ 1.2 GB peak RSS %s" % ("met" if lc_s <= 30 else "MISSED", "met" if lc_kb <= 1.2e6 else "MISSED"))
PY
