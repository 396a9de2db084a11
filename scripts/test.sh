#!/usr/bin/env bash
# Installs what the tests need (Debian's prometheus) and runs every test, with the
# same lint gates CI uses. Usage: ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_test_packages
command -v cargo >/dev/null || { echo "error: cargo not found (install Rust with rustup)" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm not found: the live test needs Node.js and npm" >&2; exit 1; }
echo "== npm ci (prom-client for the live Node.js test)"
(cd tests/live/nodejs && npm ci --no-audit --no-fund --loglevel=error)
echo "== npm ci (the OpenTelemetry JS SDK for the live OpenTelemetry test)"
(cd tests/live/otel && npm ci --no-audit --no-fund --loglevel=error)
echo "== npm ci (@grafana/schema and TypeScript, to type-check the dashboards)"
(cd tests/grafana && npm ci --no-audit --no-fund --loglevel=error)
echo "== pip install (the OpenTelemetry Python SDK for the live OpenTelemetry Python test)"
(cd tests/live/otel-python && { [ -x .venv/bin/python ] || python3 -m venv .venv; } &&
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt)
echo "== pip install (Scalene, for the Scalene profiles of tests/it/heap_sources.rs)"
(cd tests/heap/python && { [ -x .venv/bin/python ] || python3 -m venv .venv; } &&
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over all test binaries (cargo's own last line is the doc-test binary's).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
