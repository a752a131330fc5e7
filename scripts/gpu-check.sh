#!/usr/bin/env bash
# The one device check: everything that needs an NVIDIA GPU, in one run of about 5 minutes at most,
# with one JSON report. On a machine with a GPU (an x86 one such as an H100/H200, or a Jetson):
#   1. builds the kernels' native drivers for this GPU (CUDA_ARCHS from nvidia-smi's compute
#      capability): native/node-tensorrt/test/hsf_gpu_test.cu and pp_gpu_test.cu;
#   2. HSF: the CUDA kernels against the CPU reference (labels identical; scores, u', f within 1e-6,
#      with their largest differences reported), latency at batch 1, 8 and 32;
#   3. preprocessing: the CUDA kernels against their host build (float32 and float16 bits
#      identical) on random odd frames, ROIs, rotations, grey and 1080p frames; latency of batches
#      of 1, 8 and 32 1080p frames to 518;
#   4. the addon built for this GPU (build.sh, NTRT_REQUIRE=1) and its tests with their GPU branches,
#      plus the kernels through the addon (preprocess.device = preprocess.host), when node_modules
#      is there (scripts/setup.sh);
#   5. onnxruntime's CUDA provider: whether it loads and runs (the npm package ships without it).
# Usage: scripts/gpu-check.sh [--out FILE] [--dry-run]     (GPU_CHECK_CC=8.7 overrides the compute
#        capability, e.g. on a Jetson whose nvidia-smi does not report it)
#   --out FILE   the JSON report (default gpu-check-report.json)
#   --dry-run    find the GPU and the tools and print every step with its command; build and run
#                nothing (works without a GPU)
# Exit: 0 all checks passed, 1 a check failed or could not run, 2 bad usage, 3 no NVIDIA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
out="gpu-check-report.json"
dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[gpu-check] %s\n' "$*"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t_start=$SECONDS

# JSON by hand (no jq or node needed): strings escaped, control characters dropped.
json_str() {
  local s
  s="$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
  printf '"%s"' "$s"
}
json_lines() { # a file's lines as a JSON array of strings
  local first=1 line
  printf '['
  while IFS= read -r line; do
    [ $first = 1 ] || printf ','
    first=0
    json_str "$line"
  done <"$1"
  printf ']'
}
steps_json=()
# record NAME STATUS SECONDS COMMAND LOGFILE: keeps the step's result lines (PASS/FAIL/SKIP/LATENCY,
# test counts) and, when it failed, the log's last lines
record() {
  local name="$1" status="$2" secs="$3" cmd="$4" log="$5" keep="$work/$1.keep"
  grep -E '^(PASS|FAIL|SKIP|LATENCY|# (pass|fail|skipped)|not ok|\[node-tensorrt\]|ort |\{)' "$log" >"$keep" 2>/dev/null || true
  [ "$status" = pass ] || tail -n 25 "$log" >>"$keep"
  steps_json+=("{\"name\":$(json_str "$name"),\"status\":$(json_str "$status"),\"seconds\":$secs,\"command\":$(json_str "$cmd"),\"lines\":$(json_lines "$keep")}")
  say "$name: $status (${secs} s)"
}
failed=0
# step NAME TIMEOUT COMMAND...: runs it (or, dry, prints it), records pass/fail
step() {
  local name="$1" limit="$2" log="$work/$1.log" t0=$SECONDS rc=0
  shift 2
  local cmd="$*"
  if [ $dry = 1 ]; then
    say "would run ($name, at most ${limit} s): $cmd"
    printf '' >"$log"
    record "$name" planned 0 "$cmd" "$log"
    return 0
  fi
  say "$name: $cmd"
  timeout "$limit" "$@" >"$log" 2>&1 || rc=$?
  local status=pass
  if [ $rc = 124 ]; then status="fail: timed out after ${limit} s"; elif [ $rc != 0 ]; then status="fail: exit $rc"; fi
  [ "$status" = pass ] || failed=1
  record "$name" "$status" $((SECONDS - t0)) "$cmd" "$log"
}
skip() { # skip NAME REASON [REQUIRED]: a step that cannot run here; a required one fails the check
  printf '%s\n' "$2" >"$work/$1.log"
  if [ "${3:-0}" = 1 ]; then
    failed=1
    record "$1" "fail: $2" 0 "" "$work/$1.log"
  else
    record "$1" "skipped: $2" 0 "" "$work/$1.log"
  fi
}
write_report() { # write_report STATUS GPU_JSON
  local steps="" s
  for s in "${steps_json[@]}"; do steps="${steps:+$steps,}$s"; done
  mkdir -p "$(dirname "$out")"
  printf '{"tool":"scripts/gpu-check.sh","status":%s,"dryRun":%s,"date":%s,"host":%s,"gpu":%s,"cudaArch":%s,"seconds":%s,"steps":[%s]}\n' \
    "$(json_str "$1")" "$([ $dry = 1 ] && echo true || echo false)" "$(json_str "$(date -u +%FT%TZ)")" \
    "$(json_str "$(uname -m)")" "$2" "$(json_str "${arch:-}")" $((SECONDS - t_start)) "$steps" >"$out"
  say "report: $out"
}

# --- the GPU ---------------------------------------------------------------------------------------
gpu_line=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu_line="$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)"
fi
# a Jetson whose nvidia-smi reports nothing usable: the L4T release file, Orin's sm_87 unless
# GPU_CHECK_CC says otherwise (e.g. GPU_CHECK_CC=8.7)
if [ -z "$gpu_line" ] && [ -f /etc/nv_tegra_release ]; then
  gpu_line="Jetson ($(head -n 1 /etc/nv_tegra_release | tr -d '#' | cut -c1-60)), ${GPU_CHECK_CC:-8.7}"
fi
arch=""
if [ -n "$gpu_line" ]; then
  cc="${GPU_CHECK_CC:-$(printf '%s' "$gpu_line" | cut -d, -f2 | tr -d ' ')}"
  arch="${cc/./}"
  say "GPU: $gpu_line (sm_$arch)"
  gpu_json="{\"nvidiaSmi\":$(json_str "$gpu_line"),\"computeCapability\":$(json_str "$cc")}"
else
  why="no NVIDIA GPU on this machine ($(command -v nvidia-smi >/dev/null 2>&1 && echo 'nvidia-smi lists none' || echo 'nvidia-smi not found'))"
  if [ $dry = 0 ]; then
    say "$why: nothing to check"
    skip gpu "$why" 1
    write_report no-gpu null
    exit 3
  fi
  say "$why; dry run: the steps below use CUDA_ARCHS 87;90"
  gpu_json=null
fi
case "$arch" in ''|[0-9][0-9]|[0-9][0-9][0-9]) ;; *) say "cannot read a compute capability from: $gpu_line"; exit 1 ;; esac
gencode="-gencode arch=compute_${arch:-87},code=sm_${arch:-87}"
[ -z "$arch" ] && gencode="$gencode -gencode arch=compute_90,code=sm_90"

# --- tools -----------------------------------------------------------------------------------------
nvcc="$(command -v nvcc || true)"
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
node_ok=0
command -v node >/dev/null 2>&1 && node_ok=1
modules_ok=0
[ -x node_modules/.bin/cmake-js ] && [ -d dist/test ] && modules_ok=1
bin="$work/bin"

# --- 1. the kernels' drivers -----------------------------------------------------------------------
if [ -z "$nvcc" ] || ! command -v make >/dev/null 2>&1; then
  skip kernels-build "nvcc or make not found (CUDA toolkit: /usr/local/cuda/bin)" 1
else
  step kernels-build 240 make -C native/node-tensorrt/test -j 2 gpu NVCC="$nvcc" ARCH="$gencode" OUT="$bin"
fi
kernels_built=0
[ -x "$bin/hsf_gpu_test" ] && [ -x "$bin/pp_gpu_test" ] && kernels_built=1
[ $dry = 1 ] && kernels_built=1

# --- 2. HSF: the reference dumps come from the TypeScript runner (compiled, or through tsx) ---------
dumps="$work/hsf-dumps"
if [ $node_ok = 0 ]; then
  skip hsf "node not found: the CPU reference for HSF is TypeScript" 1
elif [ -f dist/test/tools/hsf-dump-reference.js ]; then
  step hsf-reference 120 node dist/test/tools/hsf-dump-reference.js "$dumps"
elif [ -x node_modules/.bin/tsx ]; then
  step hsf-reference 120 node_modules/.bin/tsx test/tools/hsf-dump-reference.ts "$dumps"
else
  skip hsf "neither dist/ (npx tsc) nor node_modules (npm ci): no CPU reference for HSF" 1
fi
if [ $kernels_built = 1 ] && { [ $dry = 1 ] || [ -d "$dumps" ]; }; then
  step hsf 120 "$bin/hsf_gpu_test" "$dumps"
fi

# --- 3. preprocessing -------------------------------------------------------------------------------
[ $kernels_built = 1 ] && step preprocess 120 "$bin/pp_gpu_test"

# --- 4. the addon for this GPU, its tests, the kernels through it -----------------------------------
addon="native/node-tensorrt/build/gpu-check/Release/node_tensorrt.node"
if [ $node_ok = 0 ] || [ $modules_ok = 0 ]; then
  skip addon "node_modules/.bin/cmake-js or dist/test missing (run scripts/setup.sh): addon not built"
else
  # sm_87 always (the product's Orin: the addon's tests require it), plus this GPU's architecture
  addon_archs="87"
  [ -n "$arch" ] && [ "$arch" != 87 ] && addon_archs="87;$arch"
  [ -z "$arch" ] && addon_archs="87;90"
  step addon-build 300 env CUDA_ARCHS="$addon_archs" NTRT_REQUIRE=1 NTRT_FORCE=1 NTRT_BUILD_DIR=build/gpu-check \
    bash native/node-tensorrt/build.sh
  if [ $dry = 1 ] || [ -f "$addon" ]; then
    step addon-tests 180 env NTRT_ADDON="$root/$addon" node --test --test-reporter=tap \
      dist/test/integration/node-tensorrt.test.js dist/test/integration/node-tensorrt-fake-libnvinfer.test.js
    # the kernels through the addon: the promise path the service's TensorRT session takes
    step addon-preprocess 60 env NTRT_ADDON="$root/$addon" node dist/test/tools/gpu-check-node.js preprocess
  fi
fi

# --- 5. onnxruntime's CUDA provider ----------------------------------------------------------------
if [ $node_ok = 1 ] && [ -f dist/test/tools/gpu-check-node.js ] && [ -d node_modules/onnxruntime-node ]; then
  # a missing provider is a fact to report, not a failure: the npm package ships without it
  step onnxruntime-cuda 60 node dist/test/tools/gpu-check-node.js onnxruntime
else
  skip onnxruntime-cuda "no onnxruntime-node or dist/ here"
fi

status=pass
[ $failed = 1 ] && status=fail
[ $dry = 1 ] && status="dry-run"
write_report "$status" "$gpu_json"
say "$status in $((SECONDS - t_start)) s"
[ $failed = 0 ]
