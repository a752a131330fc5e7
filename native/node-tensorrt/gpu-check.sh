#!/usr/bin/env bash
# The addon's checks on a machine WITH an NVIDIA GPU (TensorRT not needed; sm_90 covers H100/H200):
# builds the addon (failing if it cannot), then runs its integration tests, whose GPU branches
# (device listing, HSF runner on the GPU) only run where /dev/nvidia0 exists. ~3 min cold.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "nvidia-smi not found"
NTRT_REQUIRE=1 bash native/node-tensorrt/build.sh
npx tsx --test test/integration/node-tensorrt.test.ts test/integration/node-tensorrt-fake-libnvinfer.test.ts
