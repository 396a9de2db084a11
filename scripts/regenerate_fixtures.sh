#!/usr/bin/env bash
# Regenerates tests/fixtures/evidence-fix.json (the evidence the Markdown snapshot tests
# render) from a real run: synth's fix-mid-window scenario on a real Prometheus, then
# the run-dependent fields (version, time, URL) replaced by fixed ones. Review the diff
# and the snapshots (`cargo insta review`) after running it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_prometheus
cargo build --workspace --locked --quiet
bin=${CARGO_TARGET_DIR:-target}/debug
work=$(mktemp -d)
trap 'kill $PROM_PID 2>/dev/null || true; rm -rf "$work"' EXIT
from=2026-11-20T08:00:00Z; to=2026-11-21T08:00:00Z; fix=2026-11-20T20:00:00Z
"$bin"/synth --scenario fix-mid-window --service api --from "$from" --to "$to" -o "$work/data.om"
start_prometheus "$work" "$work/data.om"
"$bin"/leakcollect --prometheus-url "$PROM_URL" --service api --from "$from" --to "$to" \
  --fix-deployed "$fix" --step 90s --format json -q >"$work/evidence.json"
python3 - "$work/evidence.json" "$PROM_URL" tests/fixtures/evidence-fix.json <<'PY'
import json, sys
text = open(sys.argv[1]).read().replace(sys.argv[2], "http://prometheus.example:9090")
evidence = json.loads(text)
evidence.update(tool_version="0.0.0-fixture", generated_at="2026-11-26T10:00:00Z")
open(sys.argv[3], "w").write(json.dumps(evidence, indent=1) + "\n")
PY
echo "== wrote tests/fixtures/evidence-fix.json"
