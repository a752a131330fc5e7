#!/usr/bin/env bash
# Sets up everything (idempotent) and runs the demo pipeline: a synthetic production line, the
# untrained demo model, events on an embedded MQTT broker (mqtt://127.0.0.1:1883), dashboard on
# http://127.0.0.1:8080. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --enable-source-maps dist/src/cli/main.js run --config config/demo.yaml "$@"
