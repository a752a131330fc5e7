// HSF on the CPU, natively: the Gram matrix of gram_cpu.cpp, the K-Means of the CUDA kernel code
// (hsf_kernels.cuh compiled as plain C++, one thread per block) and the same fusion, so the labels,
// f, u' and scores are those of the TypeScript reference (src/hsf/cpu.ts) bit for bit. Built into
// every variant of the addon, with or without CUDA.
#pragma once
#include <cstdint>
#include <string>

#include "hsf_cuda.h"

namespace hsf_cpu {

struct Batch {
  const float* tokens;  // [B,K,L,D], selected tokens in top-K order
  const float* u;       // [B,D]
  const float* t;       // [B,2,D] (normal, abnormal)
  int B, K, L, D, k;
  double alpha;
};

struct Outputs {
  float* scores;     // [B]
  float* fused;      // [B,D] or null
  float* feature;    // [B,D] or null
  int32_t* labels;   // [B,K] or null
  double* inertia;   // [B] or null
};

/**
 * Runs one batch on up to `threads` threads (images split across threads; a single image splits its
 * Gram matrix). Returns false with a message naming the image and token when a token is not finite.
 */
bool runBatch(const Batch& in, const HsfKMeansParams& params, int threads, const Outputs& out, std::string* error);

/** The Gram kernel in use: "avx2" or "scalar". */
const char* kernelName();

}  // namespace hsf_cpu
