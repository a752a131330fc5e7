#!/usr/bin/env bash
# Cross-compiles node-tensorrt for aarch64 (Jetson Orin's CPU) on an x86_64 Debian machine with
# Debian's toolchain (g++-aarch64-linux-gnu), into build/aarch64/:
#   1. Release/node_tensorrt.node: the CPU-only variant of the addon (native CPU HSF, the
#      preprocessing kernels' host build), linked: an aarch64 shared object.
#   2. cuda/*.o: the CUDA + TensorRT variant compiled, not linked: every src/hsf/*.cu and src/preprocess/*.cu for sm_87 with
#      aarch64 host code (nvcc -ccbin aarch64-linux-gnu-g++), every C++ source with the CUDA and,
#      where found, TensorRT headers. Linking needs an aarch64 CUDA runtime (cudart_static), which
#      only JetPack has: deploy/Dockerfile.jetson builds the linked CUDA variant on the device.
#      Skipped, saying so, where nvcc is absent.
#   3. native_cpu_test: test/native_cpu_test.cpp with the native CPU code, static, for qemu-user.
# Idempotent (ccache where installed). Environment: TENSORRT_INCLUDE_DIR (default: the first
# third_party/tensorrt-*/include), NTRT_CROSS_CUDA=0 to skip step 2.
# Prints one "built: ..." line per artefact; exits non-zero when a step fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
say() { printf '[cross-aarch64] %s\n' "$*"; }
die() {
  say "$1"
  exit 1
}

cxx=aarch64-linux-gnu-g++
command -v "$cxx" >/dev/null 2>&1 || die "$cxx not found (apt-get install g++-aarch64-linux-gnu; scripts/setup.sh does)"
out="$here/build/aarch64"
mkdir -p "$out"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(ccache)

# 1. The CPU-only addon, through the same CMakeLists as the native build.
defs=("--CDCMAKE_TOOLCHAIN_FILE=$here/cmake/aarch64-linux-gnu.cmake" "--CDNTRT_WITH_CUDA=OFF" "--CDTENSORRT_INCLUDE_DIR=")
[ ${#launcher[@]} -gt 0 ] && defs+=("--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache")
if ! "$root/node_modules/.bin/cmake-js" build --out "$out" "${defs[@]}" >"$out/addon.log" 2>&1; then
  tail -n 30 "$out/addon.log"
  die "the aarch64 addon build failed (log: $out/addon.log)"
fi
say "built: addon $out/Release/node_tensorrt.node ($(file -b "$out/Release/node_tensorrt.node" | cut -d, -f1-2))"

# 2. The CUDA + TensorRT variant's objects.
nvcc="$(command -v nvcc || true)"
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ "${NTRT_CROSS_CUDA:-1}" = 0 ]; then
  say "skipped: CUDA objects (NTRT_CROSS_CUDA=0)"
elif [ -z "$nvcc" ]; then
  say "skipped: CUDA objects (nvcc not found)"
else
  cuda_inc=""
  for d in "$(dirname "$(readlink -f "$nvcc")")/../include" /usr/local/cuda/include; do
    [ -f "$d/cuda_runtime.h" ] && cuda_inc="$(cd "$d" && pwd)" && break
  done
  [ -n "$cuda_inc" ] || die "cannot find the CUDA headers (cuda_runtime.h) beside $nvcc or in /usr/local/cuda"
  trt_inc="${TENSORRT_INCLUDE_DIR:-}"
  if [ -z "$trt_inc" ]; then
    for d in "$here"/third_party/tensorrt-*/include; do [ -f "$d/NvInferRuntime.h" ] && trt_inc="$d" && break; done
  fi
  napi_inc="$root/node_modules/node-api-headers/include"
  addon_api_inc="$(cd "$here" && node -p "require('node-addon-api').include_dir")"
  # nvcc picks targets/aarch64-linux for an aarch64 host compiler; the x86_64 toolkit's headers are
  # the same files, so they are named explicitly.
  cu_flags=(-ccbin "$cxx" -std=c++17 -O3 -Isrc -gencode "arch=compute_87,code=sm_87" -Xcompiler -fPIC
    -I"$cuda_inc" -isystem "$cuda_inc/cccl")
  cpp_flags=(-std=c++17 -O3 -fPIC -Wall -Wextra -Wno-unused-parameter -Werror -DBUILDING_NODE_EXTENSION
    -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNAPI_CPP_EXCEPTIONS -DNTRT_HAVE_CUDA=1
    -DNTRT_HAVE_HSF=1 '-DNTRT_CUDA_ARCHS="87"' -Isrc -I"$napi_inc" -I"$addon_api_inc" -isystem "$cuda_inc")
  sources=(src/*.cpp src/hsf/*.cpp src/preprocess/*.cpp)
  if [ -n "$trt_inc" ]; then
    cpp_flags+=(-DNTRT_HAVE_TENSORRT=1 -isystem "$trt_inc")
    for f in src/trt/*.cpp; do [ "$(basename "$f")" = session_stub.cpp ] || sources+=("$f"); done
    trt_note="TensorRT session against $trt_inc"
  else
    sources+=(src/trt/session_stub.cpp)
    trt_note="no TensorRT headers (third_party/tensorrt-*/include or TENSORRT_INCLUDE_DIR): session stub"
  fi
  mkdir -p "$out/cuda"
  # one compiler per core: the objects are independent
  jobs=()
  for f in src/hsf/*.cu src/preprocess/*.cu; do
    [ -f "$f" ] || continue
    case "$f" in *_test*|*test_*) continue ;; esac
    jobs+=("cu $f")
  done
  for f in "${sources[@]}"; do jobs+=("cpp $f"); done
  compile() {
    local kind="$1" f="$2" o
    o="$out/cuda/$(echo "$f" | tr / _).o"
    if [ "$kind" = cu ]; then
      "${launcher[@]}" "$nvcc" "${cu_flags[@]}" -c "$f" -o "$o" || { say "nvcc failed on $f"; return 1; }
    else
      local extra=()
      case "$f" in src/hsf/*.cpp | src/preprocess/*.cpp) extra=(-ffp-contract=off) ;; esac
      "${launcher[@]}" "$cxx" "${cpp_flags[@]}" "${extra[@]}" -c "$f" -o "$o" || { say "aarch64 g++ failed on $f"; return 1; }
    fi
  }
  rm -f "$out"/cuda/*.o
  pids=()
  failed=0
  for j in "${jobs[@]}"; do
    # shellcheck disable=SC2086 # "kind file": two words on purpose
    compile $j &
    pids+=($!)
    if [ ${#pids[@]} -ge "$(nproc)" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || die "the CUDA objects do not all compile for aarch64"
  n=$(find "$out/cuda" -name '*.o' | wc -l)
  say "built: cuda objects $out/cuda ($n objects, sm_87, $trt_note; not linked: no aarch64 CUDA runtime here)"
fi

# 3. The native CPU test driver, static so that qemu-user needs no aarch64 sysroot.
"${launcher[@]}" "$cxx" -std=c++17 -O3 -ffp-contract=off -pthread -static -Wall -Isrc \
  test/native_cpu_test.cpp src/hsf/hsf_cpu.cpp src/hsf/gram_cpu.cpp src/preprocess/pp_plan.cpp \
  src/preprocess/pp_host.cpp src/preprocess/pp_cpu.cpp src/preprocess/pp_cpu_portable.cpp src/preprocess/pp_cpu_avx2.cpp \
  src/preprocess/pp_cpu_neon.cpp -o "$out/native_cpu_test" ||
  die "the test driver does not build"
say "built: test driver $out/native_cpu_test"
