#!/usr/bin/env bash
# Held-out evaluation of the demo model (issue 11's numbers): `adaclip-edge eval` on synthetic parts
# of seeds nothing else uses (nut 200, screw 201; pcb 202, a kind it was never trained on), 300
# images each at the demo cameras' geometry (640x480, part scale 0.45), half with a defect. For nut
# and screw the image threshold is the demo camera's calibrated one (config/demo.yaml), so the false
# alarms and the recall are what the demo line would show; pcb has no camera: its threshold is the
# F1-max one. Prints one JSON document per kind, then a summary line.
#   bash models/train/evaluate_demo.sh [BUNDLE]     (default models/bundles/demo-synthetic)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUNDLE=${1:-models/bundles/demo-synthetic}
DATA=${ADACLIP_EVAL_DATA:-var/eval-data}
OUT=${ADACLIP_EVAL_OUT:-var/eval}
cli() { node --enable-source-maps dist/src/cli/main.js "$@"; }
threshold_of() { # the image threshold of the config/demo.yaml camera whose className is $1
  node -e '
    const cfg = require("yaml").parse(require("fs").readFileSync("config/demo.yaml", "utf8"));
    const cam = cfg.cameras.find((c) => c.className === process.argv[1]);
    if (cam) console.log(cam.thresholds.image);
  ' "$1"
}
mkdir -p "$DATA" "$OUT"
for entry in nut:200 screw:201 pcb:202; do
  kind=${entry%%:*}
  seed=${entry##*:}
  dir="$DATA/held-$kind-s$seed"
  [ -d "$dir" ] || cli synth --out "$dir" --count 300 --train-good 0 --seed "$seed" --kinds "$kind" \
    --defect-rate 0.5 >/dev/null
  t=$(threshold_of "$kind")
  cli eval --bundle "$BUNDLE" --class "$kind" --json --out "$OUT/$kind" ${t:+--threshold "$t"} "$dir" \
    >"$OUT/$kind.json"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const good = r.goodImages, bad = r.defectiveImages;
    const f = (x) => (typeof x === "number" ? x.toFixed(4) : x);
    const t = r.threshold;
    console.log(JSON.stringify({ kind: process.argv[2], seed: Number(process.argv[3]),
      imageAuroc: f(r.imageAuroc), imageAurocWithoutHsf: f(r.imageAurocWithoutHsf), imageAp: f(r.imageAp), imageF1Max: f(r.imageF1Max),
      pixelAuroc: f(r.pixelAuroc), pixelAupro: f(r.pixelAupro), pixelF1Max: f(r.pixelF1Max),
      threshold: t.image, from: t.from, good, defective: bad,
      falseAlarmRate: good ? f(t.falsePositives / good) : null,
      recall: bad ? f(1 - t.falseNegatives / bad) : null }));
  ' "$OUT/$kind.json" "$kind" "$seed"
done
