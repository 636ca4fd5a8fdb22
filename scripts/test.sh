#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up what is missing, type-check, then every test file
# against the real Temporal dev server and the real local model. One file at a time: the e2e
# files each start a dev server and embed on both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# The local-model tests run SmolLM2-135M (fast enough for CI); other local models are fetched only when configured.
SETUP_CHAT_MODELS="${SETUP_CHAT_MODELS:-smollm2}" bash scripts/setup.sh
echo "[test] type-checking and linting"
npx --no-install tsc -p .
npx --no-install eslint .
mapfile -t files < <(find test -name '*.test.ts' | sort)
echo "[test] running ${#files[@]} test files"
exec node --import tsx --test --test-concurrency=1 "$@" "${files[@]}"
