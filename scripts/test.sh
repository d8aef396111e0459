#!/usr/bin/env bash
# The one test command (npm test): install what is missing, then typecheck, lint and run every test,
# the interop tests against real Spark and delta-rs included.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/setup-peers.sh
# A fresh dist: compiled tests of files since deleted or left by another branch must not run.
rm -rf dist
npx tsc -p tsconfig.json
npx eslint .
files=$(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-reporter=spec $files
