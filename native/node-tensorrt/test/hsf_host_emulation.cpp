// Runs the HSF CUDA kernel code (src/hsf/hsf_kernels.cuh) on the CPU, std::threads standing in for
// the threads of a block and a std::barrier for __syncthreads, and compares its labels, scores, f
// and u' with the TypeScript reference's (the dumps of test/tools/hsf-dump-reference.ts). This
// checks the kernel's logic, synchronisation and operation order where no GPU is lent; the GPU
// itself is checked by hsf_gpu_test.cu. Build: g++ -std=c++20 -O2 -ffp-contract=off -pthread.
//   hsf_host_emulation DIR [THREADS]
#define HSF_HOST_EMULATION 1
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

struct EmuDim {
  int x = 0;
  int y = 0;
};
thread_local EmuDim threadIdx;
thread_local EmuDim blockIdx;
EmuDim blockDim;
std::barrier<>* emuBarrier = nullptr;
void* emuSmem = nullptr;

inline void __syncthreads() { emuBarrier->arrive_and_wait(); }
#include "../src/hsf/hsf_host_ops.h"

#define HSF_DEVICE inline
#define HSF_GLOBAL
#define HSF_LAUNCH_BOUNDS(n)
#define HSF_SHARED(type, name) static type name
#define HSF_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(emuSmem)
#include "../src/hsf/hsf_kernels.cuh"
#include "npy_reader.h"

namespace {

/** One "launch": every block (x, y) in turn, each with `threads` std::threads. */
template <typename Body>
void launch(int gridX, int gridY, int threads, size_t smem, Body body) {
  std::vector<double> storage(smem / sizeof(double) + 1);
  emuSmem = storage.data();
  blockDim.x = threads;
  for (int by = 0; by < gridY; by++) {
    for (int bx = 0; bx < gridX; bx++) {
      std::barrier<> bar(threads);
      emuBarrier = &bar;
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; t++)
        pool.emplace_back([=] {
          threadIdx.x = t;
          blockIdx.x = bx;
          blockIdx.y = by;
          body();
        });
      for (auto& th : pool) th.join();
    }
  }
}

double maxDiff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = std::fmax(m, std::fabs((double)a[i] - (double)b[i]));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [THREADS]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int threads = argc > 2 ? std::atoi(argv[2]) : 7;
  int failures = 0, ran = 0;
  for (const char* name : {"fixture_tiny_s126", "fixture_tiny_s154", "synthetic_b32"}) {
    const std::string d = dir + "/" + name;
    Npy tok, u, t, labels, scores, fused, feature;
    int k = 0;
    double alpha = 0;
    std::ifstream p(d + "/params.txt");
    if (!p || !(p >> k >> alpha) || !readNpy(d + "/tokens.npy", &tok) || !readNpy(d + "/u.npy", &u) ||
        !readNpy(d + "/t.npy", &t) || !readNpy(d + "/labels.npy", &labels) || !readNpy(d + "/scores.npy", &scores) ||
        !readNpy(d + "/fused.npy", &fused) || !readNpy(d + "/feature.npy", &feature)) {
      std::printf("SKIP %s\n", name);
      continue;
    }
    // at most 3 images of the synthetic batch: the emulation is slow
    const int B = std::min<int>((int)tok.shape[0], 3);
    const int K = (int)tok.shape[1], L = (int)tok.shape[2], D = (int)tok.shape[3];
    std::vector<float> gotScores(B), gotFused((size_t)B * D), gotFeature((size_t)B * D);
    std::vector<int32_t> gotLabels((size_t)B * K);
    std::vector<double> inertia(B);
    const HsfKMeansParams params = {4, 100, 0.0, 0x5eed, 1};
    // a small Gram tile (4 x 4 threads; the GPU uses 16 x 16): the values must not depend on it
    constexpr int kTile = 4;
    std::vector<double> gram((size_t)B * K * K);
    launch(hsf::gramTiles(K, kTile), B, kTile * kTile, 0,
           [&] { hsf::gramKernel<float, kTile>(tok.as<float>(), K, L * D, gram.data()); });
    launch(B, 1, threads, hsf::smemBytes(K, L, D, k), [&] {
      hsf::hsfKernel<float>(tok.as<float>(), u.as<float>(), t.as<float>(), K, L, D, k, alpha, params,
                            gotScores.data(), gotFused.data(), gotFeature.data(), gotLabels.data(), inertia.data(),
                            gram.data());
    });
    size_t mismatches = 0;
    for (size_t i = 0; i < gotLabels.size(); i++) mismatches += gotLabels[i] != labels.as<int32_t>()[i];
    const double ds = maxDiff(gotScores.data(), scores.as<float>(), B);
    const double du = maxDiff(gotFused.data(), fused.as<float>(), (size_t)B * D);
    const double df = maxDiff(gotFeature.data(), feature.as<float>(), (size_t)B * D);
    const bool ok = mismatches == 0 && ds <= 1e-6 && du <= 1e-6 && df <= 1e-6;
    std::printf("%s %s: images %d, threads %d, label mismatches %zu, max|d score| %.3g, max|d u'| %.3g, max|d f| %.3g\n",
                ok ? "PASS" : "FAIL", name, B, threads, mismatches, ds, du, df);
    failures += ok ? 0 : 1;
    ran++;
    Npy patch, topk;
    if (readNpy(d + "/patch_tokens.npy", &patch) && readNpy(d + "/topk_indices.npy", &topk)) {
      // hsf_topk_gather's kernel: the official top-K order, and exactly the selected tokens
      const int N = (int)patch.shape[2];
      std::vector<float> gathered((size_t)K * L * D);
      std::vector<int32_t> idx(K);
      launch(1, 1, threads, N * sizeof(float), [&] {
        hsf::topkGatherKernel(patch.as<float>(), t.as<float>(), L, N, D, K, gathered.data(), idx.data());
      });
      size_t idxMismatch = 0;
      for (int i = 0; i < K; i++) idxMismatch += idx[i] != topk.as<int32_t>()[i];
      const double dt = maxDiff(gathered.data(), tok.as<float>(), gathered.size());
      const bool gatherOk = idxMismatch == 0 && dt == 0;
      std::printf("%s %s top-K gather: N %d, K %d, index mismatches %zu, max|d token| %.3g\n",
                  gatherOk ? "PASS" : "FAIL", name, N, K, idxMismatch, dt);
      failures += gatherOk ? 0 : 1;
    }
  }
  if (ran == 0) return 2;
  return failures ? 1 : 0;
}
