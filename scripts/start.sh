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
# Durable work (ingestion, re-index, deletion) keeps its histories for 30 days; query runs, many
# and short, for one day, in a namespace of their own.
export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
export TEMPORAL_QUERY_NAMESPACE="${TEMPORAL_QUERY_NAMESPACE:-rag-queries}"
TEMPORAL_RETENTION="${TEMPORAL_RETENTION:-720h}"
TEMPORAL_QUERY_RETENTION="${TEMPORAL_QUERY_RETENTION:-24h}"
TEMPORAL_DYNAMIC_CONFIG=(--dynamic-config-value matching.enableFairness=true
  --dynamic-config-value matching.numTaskqueueReadPartitions=1 --dynamic-config-value matching.numTaskqueueWritePartitions=1)
SEARCH_ATTRIBUTES=(RagTenant=Keyword RagCollection=Keyword RagGeneration=Int RagStage=Keyword)
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

temporal_cli() { "$CACHE/bin/temporal" "$@" --address "$TEMPORAL_ADDRESS"; }

# On a server this script did not start, a namespace that exists is left as its operator set it; a
# missing one is created with its retention and the search attributes runs carry
# (lib/search-attributes.ts), retried while the new namespace reaches the server's cache.
create_namespace() {
  local name="$1" retention="$2" attribute
  temporal_cli operator namespace describe --namespace "$name" >/dev/null 2>&1 && return 0
  echo "[start] creating namespace $name (retention $retention)"
  temporal_cli operator namespace create --namespace "$name" --retention "$retention" >/dev/null
  for attribute in "${SEARCH_ATTRIBUTES[@]}"; do
    for _ in $(seq 1 60); do
      temporal_cli operator search-attribute create --namespace "$name" --name "${attribute%%=*}" --type "${attribute##*=}" >/dev/null 2>&1 && break
      temporal_cli operator search-attribute list --namespace "$name" 2>/dev/null | grep -q "^ *${attribute%%=*} " && break
      sleep 0.5
    done
  done
}

if temporal_cli operator cluster health >/dev/null 2>&1; then
  echo "[start] using the Temporal server already at $TEMPORAL_ADDRESS"
  create_namespace "$TEMPORAL_NAMESPACE" "$TEMPORAL_RETENTION"
  create_namespace "$TEMPORAL_QUERY_NAMESPACE" "$TEMPORAL_QUERY_RETENTION"
else
  echo "[start] Temporal dev server on $TEMPORAL_ADDRESS, UI on $TEMPORAL_UI_URL (log: $DATA_DIR/temporal.log)"
  # Both namespaces and the search attributes are created at launch (in every namespace).
  namespaces=(--namespace "$TEMPORAL_QUERY_NAMESPACE")
  [ "$TEMPORAL_NAMESPACE" != default ] && namespaces+=(--namespace "$TEMPORAL_NAMESPACE")
  attributes=()
  for attribute in "${SEARCH_ATTRIBUTES[@]}"; do attributes+=(--search-attribute "$attribute"); done
  # Fairness by tenant within each priority (lib/temporal/priority.ts); one partition per task
  # queue, since on one machine more only make the order of dispatch approximate.
  "$CACHE/bin/temporal" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$DATA_DIR/temporal.db" --log-level warn "${namespaces[@]}" "${attributes[@]}" \
    "${TEMPORAL_DYNAMIC_CONFIG[@]}" >"$DATA_DIR/temporal.log" 2>&1 &
  temporal_pid=$!
  for _ in $(seq 1 100); do
    temporal_cli operator cluster health >/dev/null 2>&1 && break
    kill -0 "$temporal_pid" 2>/dev/null || { echo "[start] the Temporal dev server exited; see $DATA_DIR/temporal.log"; exit 1; }
    sleep 0.2
  done
  temporal_cli operator namespace update --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION" >/dev/null
  temporal_cli operator namespace update --namespace "$TEMPORAL_QUERY_NAMESPACE" --retention "$TEMPORAL_QUERY_RETENTION" >/dev/null
fi

echo "[start] runs in the Temporal UI: $TEMPORAL_UI_URL/namespaces/$TEMPORAL_NAMESPACE/workflows (ingestion, re-index, deletion), $TEMPORAL_UI_URL/namespaces/$TEMPORAL_QUERY_NAMESPACE/workflows (queries)"

echo "[start] API and workers (embedded database and index in $DATA_DIR)"
node --import tsx workers/all-in-one.ts &
platform_pid=$!
wait "$platform_pid"
