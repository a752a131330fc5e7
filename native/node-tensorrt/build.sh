#!/usr/bin/env bash
# Builds node-tensorrt (build/Release/node_tensorrt.node) with cmake-js. Idempotent: an up-to-date
# build is left alone, ccache makes rebuilds fast. Never fails the setup for a missing GPU toolchain:
#   - no nvcc            -> CPU-only variant (the service then reports TensorRT/GPU unavailable)
#   - no TensorRT headers -> CUDA variant without the TensorRT session (same report, other reason)
#   - no cmake-js/cmake   -> skipped with a message
# Environment: TENSORRT_INCLUDE_DIR (NvInferRuntime.h; auto-detected on JetPack), CUDA_ARCHS
# (default "87;90"), NTRT_BUILD_DIR (default build), NTRT_FORCE=1 to rebuild, NTRT_REQUIRE=1 to make
# any failure fatal (CI of the addon itself), NTRT_NO_CUDA=1 for the CPU-only variant.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
say() { printf '\033[1m[node-tensorrt]\033[0m %s\n' "$*"; }
give_up() {
  say "$1"
  if [ "${NTRT_REQUIRE:-0}" = 1 ]; then exit 1; fi
  say "skipping the addon: the service will report TensorRT/GPU unavailable and use onnxruntime"
  exit 0
}

cmakejs="$root/node_modules/.bin/cmake-js"
[ -x "$cmakejs" ] || give_up "cmake-js is not installed (run the npm install step of scripts/setup.sh first)"
command -v cmake >/dev/null 2>&1 || give_up "cmake is not installed (apt-get install cmake)"
(cd "$here" && node -e "require('node-addon-api')" 2>/dev/null) || give_up "node-addon-api is not installed"

build_dir="${NTRT_BUILD_DIR:-build}"
defs=()
nvcc="$(command -v nvcc || true)"
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ "${NTRT_NO_CUDA:-0}" = 1 ] && nvcc=""  # force the CPU-only variant (to test it where nvcc exists)
if [ -n "$nvcc" ]; then
  variant="cuda"
  defs+=("--CDCMAKE_CUDA_COMPILER=$nvcc" "--CDCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-87;90}")
  trt_inc="${TENSORRT_INCLUDE_DIR:-}"
  if [ -z "$trt_inc" ]; then
    for d in "/usr/include/$(uname -m)-linux-gnu" /usr/include /usr/local/tensorrt/include; do
      if [ -f "$d/NvInferRuntime.h" ]; then trt_inc="$d"; break; fi
    done
  fi
  if [ -n "$trt_inc" ]; then
    [ -f "$trt_inc/NvInferRuntime.h" ] || give_up "TENSORRT_INCLUDE_DIR=$trt_inc has no NvInferRuntime.h"
    variant="cuda+tensorrt($trt_inc)"
    defs+=("--CDTENSORRT_INCLUDE_DIR=$trt_inc")
  else
    defs+=("--CDTENSORRT_INCLUDE_DIR=")
  fi
else
  variant="cpu-only"
  say "nvcc not found: building the CPU-only variant (no CUDA kernels, no TensorRT)"
  defs+=("--CDNTRT_WITH_CUDA=OFF" "--CDTENSORRT_INCLUDE_DIR=")
fi
if command -v ccache >/dev/null 2>&1; then
  defs+=("--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache" "--CDCMAKE_CUDA_COMPILER_LAUNCHER=ccache")
fi

# Up to date when the .node is newer than every input and was built as the same variant.
out="$build_dir/Release/node_tensorrt.node"
stamp="$build_dir/variant.txt"
if [ "${NTRT_FORCE:-0}" != 1 ] && [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$variant" ] &&
  [ -z "$(find src CMakeLists.txt package.json build.sh -newer "$out" -print -quit)" ]; then
  say "up to date ($variant): $out"
  exit 0
fi

say "building $variant into $build_dir"
t0=$(date +%s)
# A changed variant needs a fresh configure: cmake caches the CUDA and TensorRT settings.
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$variant" ]; then rm -rf "$build_dir"; fi
if ! "$cmakejs" build --out "$build_dir" "${defs[@]}" >"$build_dir.log" 2>&1; then
  tail -n 40 "$build_dir.log" || true
  give_up "build failed (full log: native/node-tensorrt/$build_dir.log)"
fi
echo "$variant" >"$stamp"
say "built in $(($(date +%s) - t0)) s"

# The addon must load here whatever this machine has; print what it found.
node -e '
  const a = require(process.argv[1]);
  const b = a.buildInfo(), c = a.cudaDevices(), t = a.loadTensorRt();
  console.log("[node-tensorrt] loaded: cuda=" + b.cuda + " tensorrtHeaders=" + b.tensorrtHeaders + " hsf=" + b.hsf);
  console.log("[node-tensorrt] CUDA devices: " + (c.ok ? c.devices.map((d) => d.name).join(", ") || "none" : c.error));
  console.log("[node-tensorrt] TensorRT: " + (t.ok ? t.version : t.error));
' "$here/$out" || give_up "the built addon does not load"
