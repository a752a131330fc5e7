#!/usr/bin/env bash
# Exports the demo's untrained bundle (random weights, tiny architecture models/export/archs/tiny.json
# at S=224, bytes-only vocabulary made here: no download, no ../shared) to models/bundles/demo-untrained.
# Idempotent: skipped when the bundle exists and was made by the current exporter sources.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=models/bundles/demo-untrained
STAMP=models/bundles/.demo-untrained.stamp # outside the bundle: every file inside is in the manifest
PY=${ADACLIP_PYTHON:-/usr/bin/python3}
say() { printf '\033[1m[demo-bundle]\033[0m %s\n' "$*"; }

want=$(cat models/export/*.py models/export/archs/tiny.json models/export/make_demo_bundle.sh | sha256sum | cut -c1-16)
if [ -f "$OUT/manifest.json" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  say "up to date ($OUT)"
  exit 0
fi
if ! "$PY" -c 'import torch, numpy, onnx' 2>/dev/null; then
  say "error: $PY lacks torch/numpy/onnx (Debian: apt-get install python3-torch python3-numpy python3-onnx)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" -c 'import sys; sys.path.insert(0, "models/export"); from bundle import write_bytes_only_vocab; write_bytes_only_vocab(sys.argv[1])' \
  "$tmp/vocab_bytes_only.txt.gz"
say "exporting an untrained tiny bundle (random weights, seed 0, S=224) to $OUT"
"$PY" models/export/export.py --random-init 0 --arch models/export/archs/tiny.json --image-size 224 \
  --vocab "$tmp/vocab_bytes_only.txt.gz" --out "$OUT"
echo "$want" >"$STAMP"
say "done"
