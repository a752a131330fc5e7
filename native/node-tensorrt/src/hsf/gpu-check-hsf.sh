#!/usr/bin/env bash
# HSF kernels on a machine WITH an NVIDIA GPU (sm_87 or sm_90): builds the standalone kernels and
# their native test, writes the CPU reference (TypeScript) for the fixture cases and a synthetic
# batch of 32 (100 x 4 x 768, k 20), then compares: labels identical, scores / f / u' within 1e-6,
# and prints the latency of hsf_run_batch for batch 1, 8 and 32. ~2 min cold (nvcc).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "nvidia-smi not found"
make -C native/node-tensorrt/src/hsf
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
npx tsx test/tools/hsf-dump-reference.ts "$dir"
native/node-tensorrt/build/hsf/hsf_gpu_test "$dir"
