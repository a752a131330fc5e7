// Native check of the HSF CUDA kernels against the CPU reference (the TypeScript runner).
//   npx tsx test/tools/hsf-dump-reference.ts DIR     (writes the inputs and the CPU results)
//   make -C native/node-tensorrt/test gpu && native/node-tensorrt/build/tests/hsf_gpu_test DIR   (scripts/gpu-check.sh)
// For every case folder in DIR: labels must be identical, scores / f / u' within 1e-6; the fixture
// cases also check hsf_topk_gather against the official top-K order; then the latency of
// hsf_run_batch for batch 1, 8 and 32 (the `synthetic_b32` case). Needs a CUDA GPU.
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../src/hsf/hsf_cuda.h"
#include "npy_reader.h"

namespace {

#define CHECK_CUDA(x)                                                                     \
  do {                                                                                    \
    cudaError_t e_ = (x);                                                                 \
    if (e_ != cudaSuccess) {                                                              \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      std::exit(2);                                                                       \
    }                                                                                     \
  } while (0)

struct Case {
  Npy tokens, u, t, labels, scores, fused, feature;
  int k = 20;
  double alpha = 0.2;
};

bool loadCase(const std::string& dir, Case* c) {
  std::ifstream p(dir + "/params.txt");
  if (!p || !(p >> c->k >> c->alpha)) return false;
  return readNpy(dir + "/tokens.npy", &c->tokens, "<f4") && readNpy(dir + "/u.npy", &c->u, "<f4") &&
         readNpy(dir + "/t.npy", &c->t, "<f4") && readNpy(dir + "/labels.npy", &c->labels, "<i4") &&
         readNpy(dir + "/scores.npy", &c->scores, "<f4") && readNpy(dir + "/fused.npy", &c->fused, "<f4") &&
         readNpy(dir + "/feature.npy", &c->feature, "<f4");
}

template <typename T>
T* upload(const Npy& a) {
  T* d = nullptr;
  CHECK_CUDA(cudaMalloc(&d, a.bytes.size()));
  CHECK_CUDA(cudaMemcpy(d, a.bytes.data(), a.bytes.size(), cudaMemcpyHostToDevice));
  return d;
}

double maxDiff(const std::vector<float>& got, const Npy& want) {
  const float* w = reinterpret_cast<const float*>(want.bytes.data());
  double m = 0;
  for (size_t i = 0; i < got.size(); i++) m = std::fmax(m, std::fabs((double)got[i] - (double)w[i]));
  return m;
}

// Runs one case; returns the number of failures. batchOverride > 0 times that many images.
int runCase(const std::string& name, const Case& c, bool timing) {
  const int B = (int)c.tokens.shape[0], K = (int)c.tokens.shape[1], L = (int)c.tokens.shape[2],
            D = (int)c.tokens.shape[3];
  float* dTok = upload<float>(c.tokens);
  float* dU = upload<float>(c.u);
  float* dT = upload<float>(c.t);
  float *dScores, *dFused, *dFeature;
  int32_t* dLabels;
  CHECK_CUDA(cudaMalloc(&dScores, B * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dFused, (size_t)B * D * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dFeature, (size_t)B * D * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dLabels, (size_t)B * K * sizeof(int32_t)));
  const HsfKMeansParams params = hsf_default_params();
  if (hsf_run_batch(dTok, dU, dT, 0, B, K, L, D, c.k, c.alpha, &params, dScores, dFused, dFeature, dLabels, nullptr,
                    nullptr) != 0) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), hsf_last_error());
    return 1;
  }
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<float> scores(B), fused((size_t)B * D), feature((size_t)B * D);
  std::vector<int32_t> labels((size_t)B * K);
  CHECK_CUDA(cudaMemcpy(scores.data(), dScores, scores.size() * 4, cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(fused.data(), dFused, fused.size() * 4, cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(feature.data(), dFeature, feature.size() * 4, cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(labels.data(), dLabels, labels.size() * 4, cudaMemcpyDeviceToHost));
  const int32_t* wantLabels = reinterpret_cast<const int32_t*>(c.labels.bytes.data());
  size_t labelMismatch = 0;
  for (size_t i = 0; i < labels.size(); i++) labelMismatch += labels[i] != wantLabels[i];
  const double ds = maxDiff(scores, c.scores), dfu = maxDiff(fused, c.fused), dfe = maxDiff(feature, c.feature);
  const bool ok = labelMismatch == 0 && ds <= 1e-6 && dfu <= 1e-6 && dfe <= 1e-6;
  std::printf("%s %s: B=%d K=%d L=%d D=%d k=%d  label mismatches %zu, max|d score| %.3g, max|d u'| %.3g, max|d f| %.3g\n",
              ok ? "PASS" : "FAIL", name.c_str(), B, K, L, D, c.k, labelMismatch, ds, dfu, dfe);
  if (timing) {
    for (int b : {1, 8, 32}) {
      if (b > B) continue;
      cudaEvent_t e0, e1;
      CHECK_CUDA(cudaEventCreate(&e0));
      CHECK_CUDA(cudaEventCreate(&e1));
      for (int w = 0; w < 3; w++)
        hsf_run_batch(dTok, dU, dT, 0, b, K, L, D, c.k, c.alpha, &params, dScores, dFused, nullptr, dLabels, nullptr,
                      nullptr);
      const int reps = 20;
      CHECK_CUDA(cudaEventRecord(e0));
      for (int r = 0; r < reps; r++)
        hsf_run_batch(dTok, dU, dT, 0, b, K, L, D, c.k, c.alpha, &params, dScores, dFused, nullptr, dLabels, nullptr,
                      nullptr);
      CHECK_CUDA(cudaEventRecord(e1));
      CHECK_CUDA(cudaEventSynchronize(e1));
      float ms = 0;
      CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
      std::printf("LATENCY hsf_run_batch batch %d: %.3f ms per batch, %.3f ms per image\n", b, ms / reps,
                  ms / reps / b);
    }
  }
  cudaFree(dTok);
  cudaFree(dU);
  cudaFree(dT);
  cudaFree(dScores);
  cudaFree(dFused);
  cudaFree(dFeature);
  cudaFree(dLabels);
  return ok ? 0 : 1;
}

// hsf_topk_gather against the official top-K order of the fixture and the tokens it selects.
int gatherCase(const std::string& name, const Npy& patch, const Npy& t, const Npy& topk, const Npy& tokens) {
  const int L = (int)patch.shape[1], N = (int)patch.shape[2], D = (int)patch.shape[3], K = (int)topk.shape[1];
  float* dPatch = upload<float>(patch);
  float* dT = upload<float>(t);
  float* dOut;
  int32_t* dIdx;
  CHECK_CUDA(cudaMalloc(&dOut, (size_t)K * L * D * sizeof(float)));
  CHECK_CUDA(cudaMalloc(&dIdx, K * sizeof(int32_t)));
  if (hsf_topk_gather(dPatch, dT, 1, L, N, D, K, dOut, dIdx, nullptr) != 0) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), hsf_last_error());
    return 1;
  }
  std::vector<float> out((size_t)K * L * D);
  std::vector<int32_t> idx(K);
  CHECK_CUDA(cudaMemcpy(out.data(), dOut, out.size() * 4, cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(idx.data(), dIdx, idx.size() * 4, cudaMemcpyDeviceToHost));
  size_t mismatches = 0;
  for (int i = 0; i < K; i++) mismatches += idx[i] != reinterpret_cast<const int32_t*>(topk.bytes.data())[i];
  const double dt = maxDiff(out, tokens);
  std::printf("%s %s top-K gather: N %d, K %d, index mismatches %zu, max|d token| %.3g\n",
              mismatches == 0 && dt == 0 ? "PASS" : "FAIL", name.c_str(), N, K, mismatches, dt);
  cudaFree(dPatch);
  cudaFree(dT);
  cudaFree(dOut);
  cudaFree(dIdx);
  return mismatches == 0 && dt == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR (written by test/tools/hsf-dump-reference.ts)\n", argv[0]);
    return 2;
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "no CUDA device: this test needs a GPU\n");
    return 3;
  }
  const std::string dir = argv[1];
  int failures = 0, ran = 0;
  for (const char* name : {"fixture_tiny_s126", "fixture_tiny_s154", "synthetic_b32"}) {
    Case c;
    if (!loadCase(dir + "/" + name, &c)) {
      std::printf("SKIP %s (not in %s)\n", name, dir.c_str());
      continue;
    }
    failures += runCase(name, c, std::string(name) == "synthetic_b32");
    ran++;
    Npy patch, topk;
    if (readNpy(dir + "/" + name + "/patch_tokens.npy", &patch, "<f4") &&
        readNpy(dir + "/" + name + "/topk_indices.npy", &topk, "<i4"))
      failures += gatherCase(name, patch, c.t, topk, c.tokens);
  }
  if (ran == 0) {
    std::fprintf(stderr, "no case folders in %s\n", dir.c_str());
    return 2;
  }
  std::printf("%s: %d of %d cases failed\n", failures ? "FAIL" : "PASS", failures, ran);
  return failures ? 1 : 0;
}
