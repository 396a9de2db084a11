# Shared helpers for the scripts in this folder (sourced, not run).

# ensure_debian COMMAND:PACKAGE… — installs, with apt, the Debian packages whose
# commands are missing (nothing when all are there). Each script asks for what it needs.
ensure_debian() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "== installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || {
      echo "error: ${pair%%:*} still missing after apt-get install ${pair#*:}" >&2
      return 1
    }
  done
}

# What the demo and the benchmarks need: Prometheus with promtool, and curl.
ensure_prometheus() {
  ensure_debian prometheus:prometheus promtool:prometheus curl:curl
}

# What the tests need besides: the Pushgateway, VictoriaMetrics, Chromium (charts),
# openssl (TLS certificates), Go (programs that write pprof heap profiles and gctrace
# logs) and a JDK (Java programs that write -Xlog:gc logs and HPROF heap dumps).
ensure_test_packages() {
  ensure_debian prometheus:prometheus promtool:prometheus curl:curl \
    prometheus-pushgateway:prometheus-pushgateway victoria-metrics:victoria-metrics \
    chromium:chromium openssl:openssl go:golang-go python3:python3 \
    java:openjdk-17-jdk-headless javac:openjdk-17-jdk-headless
  ensure_python_venv
}

# python3 -m venv needs ensurepip, which Debian ships apart (python3-venv).
ensure_python_venv() {
  python3 -c 'import ensurepip, venv' 2>/dev/null && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "== installing Debian packages: python3-venv" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  python3 -c 'import ensurepip, venv' || {
    echo "error: python3 -m venv still unavailable after apt-get install python3-venv" >&2
    return 1
  }
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_prometheus DIR OPENMETRICS_FILE → sets PROM_URL and PROM_PID; loopback only.
start_prometheus() {
  local dir=$1 data=$2
  rm -rf "$dir/tsdb"
  promtool tsdb create-blocks-from openmetrics "$data" "$dir/tsdb" >/dev/null
  serve_prometheus "$dir"
}

# serve_prometheus DIR [FLAGS…] → starts Prometheus on DIR/tsdb; sets PROM_URL and PROM_PID.
serve_prometheus() {
  local dir=$1
  shift
  printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' >"$dir/prometheus.yml"
  local port
  port=$(free_port)
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" "$@" \
    >"$dir/prometheus.log" 2>&1 &
  PROM_PID=$!
  PROM_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    if curl -fsS "$PROM_URL/-/ready" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "error: prometheus did not start; see $dir/prometheus.log" >&2
  return 1
}

# release_dir → where `cargo build --release` puts the binaries ($CARGO_TARGET_DIR if set).
release_dir() {
  local target=${CARGO_TARGET_DIR:-target}
  case $target in /*) ;; *) target=$PWD/$target ;; esac
  echo "$target/release"
}

# floor_curls EVIDENCE_JSON URL → one curl command line per request leakcollect sent
# (same parameters, output discarded): the floor the benchmarks compare against. A record
# served from leakcollect's request cache (`shared_with`) sent nothing, so it has no line.
floor_curls() {
  python3 - "$1" "$2" <<'PY'
import json, shlex, sys
evidence = json.load(open(sys.argv[1])); url = sys.argv[2]
for q in evidence["queries"]:
    if q.get("shared_with"):
        continue
    if q["kind"] == "range":
        params = ["start=%s" % q["start"], "end=%s" % q["end"], "step=%s" % q["step_seconds"]]
        path = "/api/v1/query_range"
    elif q["kind"] == "instant":
        params = ["time=%s" % q["time"]]
        path = "/api/v1/query"
    else:
        params = ["start=%s" % q["start"], "end=%s" % q["end"]]
        path = "/api/v1/series"
        cmd = ["curl", "-sS", "-o", "/dev/null"]
        for m in q["promql"].split("\n"):
            cmd += ["--data-urlencode", "match[]=" + m]
        for p in params:
            cmd += ["--data-urlencode", p]
        print(" ".join(shlex.quote(c) for c in cmd + [url + path]))
        continue
    cmd = ["curl", "-sS", "-o", "/dev/null", "--data-urlencode", "query=" + q["promql"]]
    for p in params:
        cmd += ["--data-urlencode", p]
    print(" ".join(shlex.quote(c) for c in cmd + [url + path]))
PY
}

# request_stats EVIDENCE_JSON → one line: the requests the records say were sent, the
# records served from the request cache, identical requests sent twice, and pairs of sent
# range requests of one query at one step whose evaluation grids share a timestamp (the
# server evaluating the same points twice).
request_stats() {
  python3 - "$1" <<'PY'
import json, sys
from collections import Counter
queries = json.load(open(sys.argv[1]))["queries"]
sent = [q for q in queries if not q.get("shared_with")]
shared = len(queries) - len(sent)
http = sum(q.get("requests") or 0 for q in sent)
key = lambda q: (q["kind"], q["promql"], q.get("start"), q.get("end"), q.get("step_seconds"), q.get("time"))
identical = sum(n - 1 for n in Counter(map(key, sent)).values() if n > 1)
ranges = [q for q in sent if q["kind"] == "range"]
overlapping = 0
for i, a in enumerate(ranges):
    for b in ranges[i + 1:]:
        if a["promql"] != b["promql"] or a["step_seconds"] != b["step_seconds"] or key(a) == key(b):
            continue
        step = a["step_seconds"]
        lo, hi = max(a["start"], b["start"]), min(a["end"], b["end"])
        if hi >= lo and abs(((a["start"] - b["start"]) / step) - round((a["start"] - b["start"]) / step)) < 1e-9:
            overlapping += 1
print("requests: %d sent (%d HTTP) for %d records, %d served from the cache; duplicates: %d identical, %d overlapping"
      % (len(sent), http, len(queries), shared, identical, overlapping))
PY
}

# run_floor CURLS_FILE → runs the curls 8 at once (leakcollect's default concurrency).
run_floor() {
  xargs -d '\n' -P 8 -n 1 sh -c 'eval "$1"' _ <"$1"
}

# median FILE → the median of the numbers in FILE, one per line.
median() {
  sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

now_ms() { date +%s%3N; }

# peak_rss_kb CMD… → the command's peak resident set in KB (GNU time).
peak_rss_kb() {
  { /usr/bin/time -f '%M' "$@" >/dev/null; } 2>&1 | tail -1
}

# settle_compaction DIR → starts Prometheus on DIR/tsdb, waits until it has compacted the
# backfilled blocks (block count unchanged and no .tmp folder for 30 s, at least 90 s after
# the start: compaction first runs a minute in), stops it; prints the block count.
settle_compaction() {
  local dir=$1 t0 stable=0 last="" blocks
  t0=$(now_ms)
  serve_prometheus "$dir"
  while [ "$stable" -lt 3 ] || [ $(( $(now_ms) - t0 )) -lt 90000 ]; do
    sleep 10
    blocks=$(find "$dir/tsdb" -maxdepth 1 -name '01*' | wc -l)
    if [ "$blocks" = "$last" ] && ! find "$dir/tsdb" -maxdepth 1 -name '*tmp*' | grep -q .; then
      stable=$((stable + 1))
    else
      stable=0
    fi
    last=$blocks
  done
  kill "$PROM_PID"
  wait "$PROM_PID" 2>/dev/null || true
  echo "$last"
}

# finish_loading DIR PARAMS FROM TO → lets Prometheus compact the backfilled blocks (as a
# server holding the data would have), reports it, and records what DIR/tsdb holds so the
# next run can reuse it.
finish_loading() {
  local dir=$1 params=$2 from=$3 to=$4 t0 blocks
  t0=$(now_ms)
  blocks=$(settle_compaction "$dir")
  echo "== Prometheus compacted them to $blocks blocks in $(( ($(now_ms) - t0) / 1000 )) s (waits at least 90 s)"
  printf '%s\n%s %s\n%s\n' "$params" "$from" "$to" "$(date -u +%FT%TZ)" >"$dir/loaded"
}
