// The preprocessing kernels' arithmetic run on the CPU (pp_kernels.cuh built as plain C++): the
// emulation the GPU's output is compared with, and the reference the tests hold to the CPU path.
#pragma once
#include <cstdint>

#include "preprocess/pp_plan.h"

namespace pp {

/**
 * Runs both passes over every element of every frame, in the order of no importance (each element is
 * independent). src: the packed frames (packSources); out: [B,3,S,S] float32, or float16 bits when
 * half (the float32 value rounded to nearest even, as __float2half_rn on the GPU).
 */
void runHost(const BatchPlan& plan, const uint8_t* src, bool half, void* out);

}  // namespace pp
