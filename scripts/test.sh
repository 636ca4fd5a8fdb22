#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up what is missing (with the Debian packages only the
# tests use), type-check, then every test file against the real Temporal dev server and the real
# local model. One file at a time: the e2e files each start a dev server and embed on both cores.
# Afterwards the checkout must be as it was: running the tests writes nothing into the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
before="$(git status --porcelain 2>/dev/null || true)"
# The local-model tests run SmolLM2-135M (fast enough for CI); other local models are fetched only when configured.
SETUP_TEST_PACKAGES=1 SETUP_CHAT_MODELS="${SETUP_CHAT_MODELS:-smollm2}" bash scripts/setup.sh
echo "[test] type-checking and linting"
npx --no-install tsc -p .
npx --no-install eslint .
mapfile -t files < <(find test -name '*.test.ts' | sort)
echo "[test] running ${#files[@]} test files"
status=0
node --import tsx --test --test-concurrency=1 "$@" "${files[@]}" || status=$?
after="$(git status --porcelain 2>/dev/null || true)"
if [ "$before" != "$after" ]; then
  echo "[test] the test run changed the checkout (git status --porcelain before and after):"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi
exit "$status"
