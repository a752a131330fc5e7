#!/usr/bin/env bash
# Exports the demo's bundles (called by scripts/setup.sh; never trains, never downloads):
#
#   models/bundles/demo-untrained   random weights (seed 0) of models/export/archs/tiny.json at S=224:
#                                   provenance untrained-test, scores mean nothing
#   models/bundles/demo-synthetic   the weights models/train/train.py trained on the synthetic line
#                                   (models/train/weights/demo-synthetic-clip.pt, -adaclip.pt and the
#                                   training record demo-synthetic.json; models/export/archs/demo.json
#                                   at the record's imageSize): provenance synthetic-trained. Skipped,
#                                   with one line saying so, while those files are not there.
#
# Both use the bytes-only vocabulary made here. Each is idempotent: skipped when the bundle exists and
# its stamp (outside the bundle: every file inside is in the manifest) matches the exporter sources,
# the architecture, this script and, for demo-synthetic, the sha256 of the weights and the record.
# The weights are checked against the record's `files` sha256 before anything is exported.
#
# Environment (tests): ADACLIP_PYTHON (default /usr/bin/python3), ADACLIP_DEMO_WEIGHTS (folder of the
# trained weights, default models/train/weights), ADACLIP_DEMO_BUNDLES (where the bundles go, default
# models/bundles), ADACLIP_DEMO_ONLY (untrained or synthetic: make only that one).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${ADACLIP_PYTHON:-/usr/bin/python3}
WEIGHTS=${ADACLIP_DEMO_WEIGHTS:-models/train/weights}
BUNDLES=${ADACLIP_DEMO_BUNDLES:-models/bundles}
ONLY=${ADACLIP_DEMO_ONLY:-}
NAME=demo-synthetic
say() { printf '\033[1m[demo-bundle]\033[0m %s\n' "$*"; }
fail() {
  say "error: $*" >&2
  exit 1
}
case "$ONLY" in '' | untrained | synthetic) ;; *) fail "ADACLIP_DEMO_ONLY=$ONLY: untrained or synthetic expected" ;; esac

sources_hash() { cat models/export/*.py "$@" models/export/make_demo_bundle.sh | sha256sum | cut -c1-16; }
up_to_date() { [ -f "$1/manifest.json" ] && [ -f "$2" ] && [ "$(cat "$2")" = "$3" ]; }

checked_python=0
need_python() {
  [ "$checked_python" = 1 ] && return 0
  if ! "$PY" -c 'import torch, numpy, onnx' 2>/dev/null; then
    fail "$PY lacks torch/numpy/onnx (Debian: apt-get install python3-torch python3-numpy python3-onnx)"
  fi
  checked_python=1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
vocab() {
  [ -f "$tmp/vocab_bytes_only.txt.gz" ] ||
    "$PY" -c 'import sys; sys.path.insert(0, "models/export"); from bundle import write_bytes_only_vocab; write_bytes_only_vocab(sys.argv[1])' \
      "$tmp/vocab_bytes_only.txt.gz"
  echo "$tmp/vocab_bytes_only.txt.gz"
}

make_untrained() {
  local out=$BUNDLES/demo-untrained stamp=$BUNDLES/.demo-untrained.stamp want
  want=$(sources_hash models/export/archs/tiny.json)
  if up_to_date "$out" "$stamp" "$want"; then
    say "up to date ($out)"
    return 0
  fi
  need_python
  local v
  v=$(vocab)
  say "exporting an untrained tiny bundle (random weights, seed 0, S=224) to $out"
  "$PY" models/export/export.py --random-init 0 --arch models/export/archs/tiny.json --image-size 224 \
    --vocab "$v" --out "$out"
  echo "$want" >"$stamp"
  say "done ($out)"
}

make_synthetic() {
  local out=$BUNDLES/$NAME stamp=$BUNDLES/.$NAME.stamp
  local clip=$WEIGHTS/$NAME-clip.pt ada=$WEIGHTS/$NAME-adaclip.pt record=$WEIGHTS/$NAME.json
  local present=0 f
  for f in "$clip" "$ada" "$record"; do [ -f "$f" ] && present=$((present + 1)); done
  if [ "$present" = 0 ]; then
    say "$NAME: no trained weights in $WEIGHTS ($NAME-clip.pt, $NAME-adaclip.pt, $NAME.json): skipped (models/train/README.md)"
    return 0
  fi
  [ "$present" = 3 ] || fail "$NAME: $WEIGHTS must hold all of $NAME-clip.pt, $NAME-adaclip.pt and $NAME.json (the training record), not only some"
  # the record names each weight file's sha256: refuse weights that are not the ones it describes
  "$PY" - "$record" "$clip" "$ada" <<'PYEOF'
import hashlib, json, os, sys
record, paths = sys.argv[1], sys.argv[2:]
try:
    with open(record, encoding='utf-8') as f:
        files = json.load(f).get('files') or {}
except (OSError, ValueError, AttributeError) as e:
    sys.exit(f'[demo-bundle] error: {record}: not a readable training record ({e})')
for p in paths:
    name = os.path.basename(p)
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    if name not in files:
        sys.exit(f'[demo-bundle] error: {record} names no sha256 for {name} (its files: {sorted(files)})')
    if h.hexdigest() != files[name]:
        sys.exit(f'[demo-bundle] error: {p}: sha256 {h.hexdigest()} is not the {files[name]} its training record '
                 f'{record} says (a Git LFS pointer, a partial copy, or weights from another run): not exported')
PYEOF
  local size want
  size=$("$PY" -c 'import json, sys; print(int(json.load(open(sys.argv[1], encoding="utf-8"))["imageSize"]))' "$record") ||
    fail "$record: no imageSize"
  want="$(sources_hash models/export/archs/demo.json)-$(cat "$clip" "$ada" "$record" | sha256sum | cut -c1-16)-S$size"
  if up_to_date "$out" "$stamp" "$want"; then
    say "up to date ($out)"
    return 0
  fi
  need_python
  local v
  v=$(vocab)
  say "exporting the demo model trained on the synthetic line ($WEIGHTS/$NAME-*.pt, S=$size) to $out"
  "$PY" models/export/export.py --clip "$clip" --adaclip "$ada" --training "$record" \
    --arch models/export/archs/demo.json --image-size "$size" --vocab "$v" --out "$out"
  echo "$want" >"$stamp"
  say "done ($out)"
}

mkdir -p "$BUNDLES"
# plain statements, not `a || f`: errexit is off inside a function called from a || list
if [ "$ONLY" != synthetic ]; then make_untrained; fi
if [ "$ONLY" != untrained ]; then make_synthetic; fi
