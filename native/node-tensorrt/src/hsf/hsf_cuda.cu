// Host side of the HSF CUDA kernels (hsf_kernels.cuh); the C API is in hsf_cuda.h. Two launches per
// batch: gramKernel (tiles of every image's Gram matrix, spread over the GPU) and hsfKernel (one
// block per image: K-Means on the Gram matrix, fusion). Every step follows
// the TypeScript reference (src/hsf/gram.ts, kmeans-gram.ts, fusion.ts) in the same float64
// operation order, with explicitly rounded intrinsics (__dadd_rn, ...) so the compiler cannot fuse
// a multiply-add the reference rounds twice: the labels come out identical to the CPU's.
// Reductions whose order matters (potentials, inertia, Q, norms) run serially in one thread, in the
// reference's order; only element-wise independent work (Gram entries, rows of S, assignments,
// S-column updates, per-dimension centre sums) is spread over the threads. K x K and K x k numbers are
// tiny next to the Gram matrix, so this costs little.
#include "hsf_cuda.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "hsf_kernels.cuh"

#include <cmath>
#include <cstdio>
#include <string>

namespace {

thread_local std::string g_error;

int fail(int code, const std::string& msg) {
  g_error = msg;
  return code;
}

using hsf::gramKernel;
using hsf::hsfKernel;
using hsf::kThreads;
using hsf::topkGatherKernel;
constexpr int kGramTile = 16;

}  // namespace

extern "C" {

HsfKMeansParams hsf_default_params(void) {
  HsfKMeansParams p;
  p.n_init = 4;
  p.max_iter = 100;
  p.tol = 0;
  p.seed = 0x5eed;
  p.hartigan = 1;
  return p;
}

int hsf_max_top_k(void) { return 128; }

const char* hsf_last_error(void) { return g_error.c_str(); }

int hsf_run_batch(const void* d_tokens, const void* d_u, const void* d_t, int tokens_half, int B, int K, int L, int D,
                  int k, double alpha, const HsfKMeansParams* params, float* d_scores, float* d_fused,
                  float* d_feature, int32_t* d_labels, double* d_inertia, void* stream) {
  if (B < 1 || K < 1 || L < 1 || D < 1 || k < 1) return fail(1, "hsf_run_batch: B, K, L, D and k must be positive");
  if (k > K) return fail(1, "hsf_run_batch: k exceeds the number of selected tokens K");
  if (K > hsf_max_top_k()) return fail(1, "hsf_run_batch: K exceeds hsf_max_top_k()");
  if (!(alpha >= 0 && alpha <= 1)) return fail(1, "hsf_run_batch: alpha must be in [0, 1]");
  if (!d_tokens || !d_u || !d_t || !d_scores) return fail(1, "hsf_run_batch: null input or scores pointer");
  const HsfKMeansParams p = params ? *params : hsf_default_params();
  if (p.n_init < 1 || p.max_iter < 1) return fail(1, "hsf_run_batch: n_init and max_iter must be positive");
  const size_t smem = hsf::smemBytes(K, L, D, k);
  int dev = 0;
  int optin = 0;
  cudaError_t err = cudaGetDevice(&dev);
  if (err == cudaSuccess) err = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  if (err != cudaSuccess) return fail(2, std::string("hsf_run_batch: no CUDA device: ") + cudaGetErrorString(err));
  if (smem > (size_t)optin) {
    return fail(1, "hsf_run_batch: K=" + std::to_string(K) + ", D=" + std::to_string(D) + " need " +
                       std::to_string(smem) + " bytes of shared memory, the device allows " + std::to_string(optin));
  }
  cudaStream_t s = (cudaStream_t)stream;
  // the batch's Gram matrices in global memory: stream-ordered allocation where the device has
  // memory pools, else a plain cudaMalloc (then freed after a synchronisation)
  double* dGram = nullptr;
  const size_t gramBytes = (size_t)B * K * K * sizeof(double);
  bool pooled = cudaMallocAsync((void**)&dGram, gramBytes, s) == cudaSuccess;
  if (!pooled) {
    cudaGetLastError();  // clear the error of the failed async allocation
    err = cudaMalloc((void**)&dGram, gramBytes);
    if (err != cudaSuccess) return fail(2, std::string("hsf_run_batch: cudaMalloc: ") + cudaGetErrorString(err));
  }
  const dim3 gramGrid(hsf::gramTiles(K, kGramTile), B);
  if (tokens_half) {
    gramKernel<__half, kGramTile><<<gramGrid, kGramTile * kGramTile, 0, s>>>((const __half*)d_tokens, K, L * D, dGram);
    err = cudaFuncSetAttribute(hsfKernel<__half>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err == cudaSuccess)
      hsfKernel<__half><<<B, kThreads, smem, s>>>((const __half*)d_tokens, (const __half*)d_u, (const __half*)d_t, K,
                                                  L, D, k, alpha, p, d_scores, d_fused, d_feature, d_labels,
                                                  d_inertia, dGram);
  } else {
    gramKernel<float, kGramTile><<<gramGrid, kGramTile * kGramTile, 0, s>>>((const float*)d_tokens, K, L * D, dGram);
    err = cudaFuncSetAttribute(hsfKernel<float>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err == cudaSuccess)
      hsfKernel<float><<<B, kThreads, smem, s>>>((const float*)d_tokens, (const float*)d_u, (const float*)d_t, K, L,
                                                 D, k, alpha, p, d_scores, d_fused, d_feature, d_labels, d_inertia,
                                                 dGram);
  }
  if (pooled) {
    cudaFreeAsync(dGram, s);
  } else {
    cudaStreamSynchronize(s);
    cudaFree(dGram);
  }
  if (err == cudaSuccess) err = cudaGetLastError();
  if (err != cudaSuccess) return fail(3, std::string("hsf_run_batch: launch failed: ") + cudaGetErrorString(err));
  return 0;
}

int hsf_topk_gather(const float* d_patch_tokens, const float* d_t, int B, int L, int N, int D, int K,
                    float* d_tokens_out, int32_t* d_indices_out, void* stream) {
  if (B < 1 || L < 1 || N < 1 || D < 1 || K < 1 || K > N) return fail(1, "hsf_topk_gather: bad sizes (need 1 <= K <= N)");
  if (!d_patch_tokens || !d_t || !d_tokens_out || !d_indices_out) return fail(1, "hsf_topk_gather: null pointer");
  const size_t smem = (size_t)N * sizeof(float);
  if (smem > 48 * 1024) return fail(1, "hsf_topk_gather: N too large for one block's shared memory");
  topkGatherKernel<<<B, 512, smem, (cudaStream_t)stream>>>(d_patch_tokens, d_t, L, N, D, K, d_tokens_out,
                                                          d_indices_out);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return fail(3, std::string("hsf_topk_gather: launch failed: ") + cudaGetErrorString(err));
  return 0;
}

}  // extern "C"
