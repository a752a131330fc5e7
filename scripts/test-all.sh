#!/usr/bin/env bash
# Sets up everything (idempotent) and runs every check: lint, format, types, all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run lint
npm test
