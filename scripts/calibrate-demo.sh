#!/usr/bin/env bash
# Calibrates the demo's cameras (config/demo.yaml) on good parts only, the way a line is set up
# (`adaclip-edge calibrate`, docs/calibration.md): 1000 good parts of each camera's kind from the
# synthetic line at seed 7, a seed nothing else uses (training: 1; evaluation: 100 and 200; the demo
# line itself: 11 and 12). Run by setup after the demo bundle is exported.
#
# The thresholds in config/demo.yaml are this script's output, committed. Setup recalibrates into a
# copy and compares: the same thresholds (the normal case: same bundle, deterministic scoring) leave
# the file alone; different ones (a re-exported bundle) are written into it, and it says so.
# Idempotent: skipped while the bundle's manifest and config/demo.yaml are what it last checked.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=config/demo.yaml
BUNDLE=models/bundles/demo-synthetic
STAMP=models/bundles/.demo-calibration.stamp # outside the bundle: every file inside is in its manifest
SEED=7
COUNT=1000
say() { printf '\033[1m[calibrate-demo]\033[0m %s\n' "$*"; }

if [ ! -f "$BUNDLE/manifest.json" ]; then
  say "no $BUNDLE: the demo keeps the thresholds in $CONFIG"
  exit 0
fi
stamp() { cat "$BUNDLE/manifest.json" "$CONFIG" | sha256sum | cut -c1-16; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp)" ]; then
  say "up to date ($CONFIG, $BUNDLE)"
  exit 0
fi

tmp=$(mktemp -d)
# the copy sits beside the original so that its relative paths (stateDir) mean the same
copy="config/.demo-calibrating.yaml"
trap 'rm -rf "$tmp" "$copy"' EXIT
cp "$CONFIG" "$copy"
cli() { node --enable-source-maps dist/src/cli/main.js "$@"; }
# camera id, then its part kind: the lines `- id: X` and `kinds: [K]` of each camera in the config
# shellcheck disable=SC2016 # JavaScript in single quotes
mapfile -t cameras < <(node -e '
  const { parse } = require("yaml");
  const cfg = parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const c of cfg.cameras) console.log(`${c.id} ${c.source.kinds.join(",")} ${c.source.width}x${c.source.height} ${c.source.partScale}`);
' "$CONFIG")
for line in "${cameras[@]}"; do
  read -r id kinds size scale <<<"$line"
  say "camera $id: $COUNT good $kinds parts (seed $SEED, $size, part scale $scale)"
  cli synth --out "$tmp/$id" --count 0 --train-good "$COUNT" --seed "$SEED" --kinds "$kinds" \
    --size "$size" --part-scale "$scale" >/dev/null
  cli calibrate --config "$copy" --camera "$id" --good "$tmp/$id/train/good" --write >"$tmp/$id.log" 2>&1 ||
    { cat "$tmp/$id.log" >&2; exit 1; }
  grep -E 'image|clear|pixel|false' "$tmp/$id.log" | sed 's/^/  /' || true
done
# `at:` is when the calibration ran: the only line allowed to differ
if diff <(grep -v '^ *at:' "$CONFIG") <(grep -v '^ *at:' "$copy") >/dev/null; then
  say "thresholds in $CONFIG confirmed"
else
  cp "$copy" "$CONFIG"
  say "thresholds in $CONFIG changed (another bundle or calibration settings): written; review with git diff"
fi
stamp >"$STAMP"
