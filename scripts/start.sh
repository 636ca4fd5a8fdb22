#!/usr/bin/env bash
# One command for the whole stack on embedded defaults: sets up what is missing, starts the
# Temporal dev server (with its UI) and then the API and workers in one process.
# Ctrl-C or SIGTERM stops both within seconds. Data lives in $DATA_DIR (default .data/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

CACHE="${RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rag-platform}"
DATA_DIR="${DATA_DIR:-.data}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}"
export TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://127.0.0.1:$TEMPORAL_UI_PORT}"
export DATA_DIR
# Prometheus metrics of the platform and of the Temporal SDK's workers, on loopback (METRICS_HOST).
export METRICS_PORT="${METRICS_PORT:-9464}"
export TEMPORAL_METRICS_PORT="${TEMPORAL_METRICS_PORT:-9465}"
mkdir -p "$DATA_DIR"

# The platform runs in the background and this script waits for it: bash runs a trap only once
# its foreground child has exited, so a SIGTERM to `npm start` would otherwise stop nothing.
temporal_pid=""
platform_pid=""
stop() {
  trap - EXIT INT TERM
  [ -n "$platform_pid" ] && kill -TERM "$platform_pid" 2>/dev/null && wait "$platform_pid" 2>/dev/null
  [ -n "$temporal_pid" ] && kill -TERM "$temporal_pid" 2>/dev/null && wait "$temporal_pid" 2>/dev/null
  true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

if "$CACHE/bin/temporal" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "[start] using the Temporal server already at $TEMPORAL_ADDRESS"
else
  echo "[start] Temporal dev server on $TEMPORAL_ADDRESS, UI on $TEMPORAL_UI_URL (log: $DATA_DIR/temporal.log)"
  "$CACHE/bin/temporal" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$DATA_DIR/temporal.db" --log-level warn \
    --search-attribute RagTenant=Keyword --search-attribute RagCollection=Keyword \
    --search-attribute RagGeneration=Int --search-attribute RagStage=Keyword >"$DATA_DIR/temporal.log" 2>&1 &
  temporal_pid=$!
  for _ in $(seq 1 100); do
    "$CACHE/bin/temporal" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 && break
    kill -0 "$temporal_pid" 2>/dev/null || { echo "[start] the Temporal dev server exited; see $DATA_DIR/temporal.log"; exit 1; }
    sleep 0.2
  done
fi

echo "[start] API and workers (embedded database and index in $DATA_DIR)"
node --import tsx workers/all-in-one.ts &
platform_pid=$!
wait "$platform_pid"
