#!/usr/bin/env bash
# Installs everything adaclip-edge needs on Debian/Ubuntu, idempotently: a second run skips what is
# done. Used by scripts/demo.sh, scripts/test-all.sh and .ci/run. Set SETUP_QUIET=1 for less output.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# 1. System packages: OpenCV (the binding builds against it), Mosquitto (tests), the exporter's
#    Python stack (Debian's torch: no PyPI here), ccache (fast native rebuilds), cmake (addon).
#    python3-regex: the exporter's CLIP BPE (models/export/clip_bpe.py) and the tokenizer test.
#    test/unit/setup-packages.test.ts checks that every Python module the repository imports is here.
APT_PKGS=(libopencv-dev mosquitto mosquitto-clients python3 python3-torch python3-numpy python3-scipy
  python3-sklearn python3-pil python3-onnx python3-torchvision python3-regex ccache cmake gcc g++ make
  openssl pkg-config)
# aarch64 cross toolchain + qemu-user (test/integration/aarch64-cross.test.ts), shellcheck (script tests)
APT_PKGS+=(g++-aarch64-linux-gnu qemu-user-static shellcheck)
# SETUP_DEVICE=1 (deploy/Dockerfile.jetson, a Jetson): only what building and running there needs
if [ "${SETUP_DEVICE:-0}" = 1 ]; then
  APT_PKGS=(libopencv-dev ccache cmake g++ make pkg-config python3)
  SETUP_BROWSER=0
fi
[ "${SETUP_BROWSER:-1}" = 1 ] && APT_PKGS+=(chromium)
# kubectl renders deploy/k8s in the tests (kustomize). Debian 12's is kubernetes-client (1.20); a
# kubectl already installed from elsewhere (a newer one) is kept: both packages own /usr/bin/kubectl.
command -v kubectl >/dev/null 2>&1 || APT_PKGS+=(kubernetes-client)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "apt: all ${#APT_PKGS[@]} packages present"
fi
# What the tests run must now be here: fail at setup, naming it, rather than in a test 20 minutes later.
if [ "${SETUP_DEVICE:-0}" != 1 ]; then
  /usr/bin/python3 -c 'import torch, torchvision, numpy, scipy, sklearn, PIL, onnx, regex' ||
    { say "error: /usr/bin/python3 lacks a module above (Debian python3-*: see APT_PKGS)"; exit 1; }
  for c in mosquitto mosquitto_sub mosquitto_pub mosquitto_passwd openssl kubectl shellcheck \
    qemu-aarch64-static aarch64-linux-gnu-g++ cc g++ cmake; do
    PATH="$PATH:/usr/sbin" command -v "$c" >/dev/null 2>&1 || { say "error: $c not found after installing APT_PKGS"; exit 1; }
  done
fi
# Debian's mosquitto service is not wanted: tests spawn their own brokers on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi

# 2. npm dependencies. The OpenCV binding's auto-build would clone OpenCV from the internet: use the
#    system OpenCV instead. onnxruntime-node's postinstall would download CUDA binaries: skip it.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1 ONNXRUNTIME_NODE_INSTALL=skip
# The binding would take the first /usr/lib/*-linux-gnu as OpenCV's library folder, and the aarch64
# cross binutils create /usr/lib/aarch64-linux-gnu: name this machine's own (also right on a Jetson).
OPENCV_LIB_DIR="/usr/lib/$(gcc -dumpmachine)"
export OPENCV_INCLUDE_DIR=/usr/include/opencv4 OPENCV_BIN_DIR=/usr/bin OPENCV_LIB_DIR
export CC="ccache gcc" CXX="ccache g++" CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}" JOBS=max
stamp_want="$(sha256sum package-lock.json | cut -c1-16)-$(node --version)"
stamp_file=node_modules/.adaclip-edge-setup
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp_want" ]; then
  say "npm: node_modules up to date"
else
  say "npm: installing dependencies (cold: ~12 min for the OpenCV binding, with ccache ~1 min)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$stamp_want" > "$stamp_file"
fi

# 3. TypeScript build (incremental enough: tsc takes ~10 s).
say "build: tsc"
npx tsc -p tsconfig.json

# 4. Native addon (node-tensorrt: CUDA kernels + TensorRT runtime loaded at run time).
if [ -f native/node-tensorrt/build.sh ]; then
  bash native/node-tensorrt/build.sh
fi

# 5. The demo's model bundles (bytes-only vocabulary: no download): demo-untrained (random tiny
#    weights) and, once its weights are committed in models/train/weights, demo-synthetic (the model
#    trained on the synthetic line: exported, never retrained); not on a device (SETUP_DEVICE=1),
#    where the exporter's torch is not installed.
if [ -f models/export/make_demo_bundle.sh ] && [ "${SETUP_DEVICE:-0}" != 1 ]; then
  bash models/export/make_demo_bundle.sh
  # 6. The demo cameras' thresholds, calibrated on good parts of the synthetic line only (checked
  #    against the committed ones; rewritten only when the bundle changed)
  bash scripts/calibrate-demo.sh
fi

say "done in $(( $(date +%s) - t0 )) s"
