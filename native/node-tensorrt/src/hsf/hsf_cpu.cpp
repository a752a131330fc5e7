// HSF on the CPU (see hsf_cpu.h). The K-Means is the CUDA kernel's own code, compiled here as C++
// for a block of one thread: one definition of the algorithm for the GPU and the native CPU path,
// checked against the TypeScript reference by the tests. Build with -ffp-contract=off (CMakeLists):
// a contracted multiply-add would round differently from the reference.
#include "hsf_cpu.h"

#include <cmath>
#include <vector>

#include "gram_cpu.h"
#include "worker_pool.h"

#define HSF_HOST_EMULATION 1
#define HSF_NAMESPACE hsf_cpu
#define HSF_DEVICE inline
#define HSF_GLOBAL
#define HSF_LAUNCH_BOUNDS(n)
#define HSF_SHARED(type, name) type name
#define HSF_DYNAMIC_SHARED(type, name) type* name = nullptr

namespace hsf_cpu {
// A block of one thread: every strided loop of the kernel code runs whole, barriers are no-ops.
struct Dim {
  int x;
  int y;
};
constexpr Dim threadIdx{0, 0};
constexpr Dim blockIdx{0, 0};
constexpr Dim blockDim{1, 1};
inline void __syncthreads() {}
#include "hsf_host_ops.h"  // in this namespace on purpose: the kernel code finds them here
}  // namespace hsf_cpu

#include "hsf_kernels.cuh"

namespace hsf_cpu {
namespace {

/** Scratch of one worker thread, sized for (K, k, D). */
struct Workspace {
  PackedRows rows;
  std::vector<double> gram, doubles, acc, feature, fused;
  Smem m{};

  void size(int K, int k, int D) {
    gram.resize((size_t)K * K);
    // the kernel's shared-memory layout: the doubles, then the ints in the same buffer
    const size_t ints = (smemInts(K, k) * sizeof(int) + sizeof(double) - 1) / sizeof(double);
    doubles.resize(smemDoubles(K, k) + ints);
    acc.resize((size_t)k * D);
    feature.resize(D);
    fused.resize(D);
    m.G = gram.data();
    layoutSmem(m, doubles.data(), K, k);
  }
};

/**
 * f = mean over the non-empty clusters of (sum of the cluster's token rows over members and layers)
 * / (n_c L), as the kernel's fusion loop, in the same order for every d (members ascending, then
 * layers), but with d innermost so the compiler vectorises it.
 */
void clusterFeature(const float* X, int K, int L, int D, int k, Workspace& w) {
  Smem& m = w.m;
  for (int c = 0; c < k; c++) m.counts[c] = 0;
  for (int i = 0; i < K; i++) m.counts[m.bestLabels[i]]++;
  std::fill(w.acc.begin(), w.acc.end(), 0.0);
  for (int i = 0; i < K; i++) {
    double* acc = &w.acc[(size_t)m.bestLabels[i] * D];
    for (int l = 0; l < L; l++) {
      const float* row = X + ((size_t)i * L + l) * D;
      for (int d = 0; d < D; d++) acc[d] = acc[d] + (double)row[d];
    }
  }
  int nonEmpty = 0;
  std::fill(w.feature.begin(), w.feature.end(), 0.0);
  for (int c = 0; c < k; c++) {
    if (m.counts[c] == 0) continue;
    nonEmpty++;
    const double inv = 1.0 / (double)(m.counts[c] * L);
    const double* acc = &w.acc[(size_t)c * D];
    for (int d = 0; d < D; d++) w.feature[d] = w.feature[d] + acc[d] * inv;
  }
  for (int d = 0; d < D; d++) w.feature[d] = w.feature[d] / (double)nonEmpty;
}

/** False with a message naming image b and the token when a diagonal entry of G is not finite. */
bool checkFinite(const Batch& in, int b, const Workspace& w, std::string* error) {
  for (int i = 0; i < in.K; i++) {
    if (!std::isfinite(w.gram[(size_t)i * in.K + i])) {
      *error = "HSF: image " + std::to_string(b) + ", selected token " + std::to_string(i) + " has a non-finite value";
      return false;
    }
  }
  return true;
}

/** Centre averaging, fusion and the outputs of image b, from w.m.bestLabels. */
void fuseImage(const Batch& in, int b, double inertia, Workspace& w, const Outputs& out) {
  const int K = in.K, D = in.D;
  const float* X = in.tokens + (size_t)b * K * in.L * D;
  clusterFeature(X, K, in.L, D, in.k, w);
  out.scores[b] =
      finishFusion(w.feature.data(), w.fused.data(), in.u + (size_t)b * D, in.t + (size_t)b * 2 * D, D, in.alpha);
  if (out.inertia) out.inertia[b] = inertia;
  for (int d = 0; d < D; d++) {
    if (out.fused) out.fused[(size_t)b * D + d] = (float)w.fused[d];
    if (out.feature) out.feature[(size_t)b * D + d] = (float)w.feature[d];
  }
  if (out.labels)
    for (int i = 0; i < K; i++) out.labels[(size_t)b * K + i] = w.m.bestLabels[i];
}

/** Everything after the Gram matrix for image b (w.gram filled), on the calling thread. */
bool finishImage(const Batch& in, const HsfKMeansParams& p, int b, Workspace& w, const Outputs& out,
                 std::string* error) {
  if (!checkFinite(in, b, w, error)) return false;
  int shFlag = 0, shMove = 0;
  const double inertia = kmeansBlock(w.gram.data(), in.K, in.k, p, w.m, shFlag, shMove);
  fuseImage(in, b, inertia, w, out);
  return true;
}

Workspace& threadWorkspace(const Batch& in) {
  thread_local Workspace w;
  w.size(in.K, in.k, in.D);
  return w;
}

WorkerPool& pool() {
  static WorkerPool p;
  return p;
}

/**
 * One image on `threads` threads: the Gram matrix in row ranges, then the K-Means inits shared out
 * (thread t runs inits t, t + threads, ...; the lowest inertia wins, the lowest init on ties, which
 * is what the sequential loop keeps), then the fusion on the calling thread.
 */
bool runOneImage(const Batch& in, const HsfKMeansParams& p, int threads, const Outputs& out, std::string* error) {
  Workspace& w = threadWorkspace(in);
  const int n = in.L * in.D;
  std::vector<int> bounds(threads + 1);
  gramPartition(in.K, threads, bounds.data());
  sizePackedRows(in.K, n, &w.rows);
  pool().run(threads, [&](int t) { packChunks(in.tokens, &w.rows, t, threads); });
  pool().run(threads, [&](int t) { gramRows(w.rows, bounds[t], bounds[t + 1], w.gram.data()); });
  if (!checkFinite(in, 0, w, error)) return false;
  const int parts = std::min(threads, p.n_init);
  std::vector<double> inertia(parts);
  std::vector<int> init(parts);
  std::vector<std::vector<int>> labels(parts);
  pool().run(parts, [&](int t) {
    Workspace& mine = t == 0 ? w : threadWorkspace(in);
    int shFlag = 0, shMove = 0;
    inertia[t] = kmeansBlock(w.gram.data(), in.K, in.k, p, mine.m, shFlag, shMove, t, parts, &init[t]);
    // copied here: once the job ends, another call may reuse this helper's workspace
    if (t != 0) labels[t].assign(mine.m.bestLabels, mine.m.bestLabels + in.K);
  });
  int best = 0;
  for (int t = 1; t < parts; t++)
    if (inertia[t] < inertia[best] || (inertia[t] == inertia[best] && init[t] < init[best])) best = t;
  if (best != 0) std::copy(labels[best].begin(), labels[best].end(), w.m.bestLabels);
  fuseImage(in, 0, inertia[best], w, out);
  return true;
}

}  // namespace

bool runBatch(const Batch& in, const HsfKMeansParams& p, int threads, const Outputs& out, std::string* error) {
  threads = std::max(1, threads);
  if (in.B == 1 && threads > 1) return runOneImage(in, p, threads, out, error);
  // a batch: whole images per thread, image b on thread b mod threads
  const int n = in.L * in.D;
  const int used = std::min(threads, in.B);
  std::vector<std::string> errors(used);
  std::vector<int> failedAt(used, -1);
  pool().run(used, [&](int t) {
    Workspace& w = threadWorkspace(in);
    for (int b = t; b < in.B; b += used) {
      packRows(in.tokens + (size_t)b * in.K * n, in.K, n, &w.rows);
      gramRows(w.rows, 0, in.K, w.gram.data());
      if (!finishImage(in, p, b, w, out, &errors[t])) {
        failedAt[t] = b;
        return;
      }
    }
  });
  // report the first failing image, as the TypeScript runner (which stops there) would
  int first = -1;
  for (int t = 0; t < used; t++)
    if (failedAt[t] >= 0 && (first < 0 || failedAt[t] < failedAt[first])) first = t;
  if (first >= 0) {
    *error = errors[first];
    return false;
  }
  return true;
}

const char* kernelName() { return gramKernelName(); }

}  // namespace hsf_cpu
