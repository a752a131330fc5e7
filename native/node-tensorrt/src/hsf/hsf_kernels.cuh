// HSF device code: the kernels and their helpers, included by hsf_cuda.cu. Written against a few
// macros (HSF_DEVICE, HSF_SHARED, ...) so that test/hsf_host_emulation.cpp can also compile it as
// plain C++ and run it with std::threads standing in for a block: that checks, on any machine,
// that the kernel's synchronisation and operation order give the CPU reference's labels.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#ifndef HSF_HOST_EMULATION
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#define HSF_DEVICE __device__ __forceinline__
#define HSF_GLOBAL __global__
#define HSF_LAUNCH_BOUNDS(n) __launch_bounds__(n)
#define HSF_SHARED(type, name) __shared__ type name
#define HSF_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#include "hsf_cuda.h"

// The host build (hsf_cpu.cpp) compiles this file again, as plain C++, under another namespace so the
// two builds of the same templates never share a symbol.
#ifndef HSF_NAMESPACE
#define HSF_NAMESPACE hsf
#endif

namespace HSF_NAMESPACE {

constexpr int kThreads = 256;

/** Doubles of Smem after G: S (K*k), q, qOverN2, up, down (k each), dist, closest, cand, best (K each). */
inline size_t smemDoubles(int K, int k) { return (size_t)K * k + 4 * (size_t)k + 4 * (size_t)K; }
/** Ints of Smem: counts (k), labels, bestLabels (K each), centres (k), starts (k + 1), members (K). */
inline size_t smemInts(int K, int k) { return 3 * (size_t)k + 1 + 3 * (size_t)K; }

/** Dynamic shared memory of hsfKernel: G (or f and u' after K-Means), then smemDoubles and smemInts. */
inline size_t smemBytes(int K, int L, int D, int k) {
  (void)L;
  const size_t gSize = (size_t)K * K > (size_t)2 * D ? (size_t)K * K : (size_t)2 * D;
  return (gSize + smemDoubles(K, k)) * sizeof(double) + smemInts(K, k) * sizeof(int);
}

HSF_DEVICE double dadd(double a, double b) { return __dadd_rn(a, b); }
HSF_DEVICE double dsub(double a, double b) { return __dsub_rn(a, b); }
HSF_DEVICE double dmul(double a, double b) { return __dmul_rn(a, b); }
HSF_DEVICE double ddiv(double a, double b) { return __ddiv_rn(a, b); }

HSF_DEVICE double ld(const float* p, size_t i) { return (double)p[i]; }
#ifndef HSF_HOST_EMULATION
HSF_DEVICE double ld(const __half* p, size_t i) { return (double)__half2float(p[i]); }
#endif

// Mulberry32, as src/util/prng.ts.
struct Rng {
  uint32_t s;
  HSF_DEVICE double next() {
    s += 0x6D2B79F5u;
    uint32_t t = s;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return (double)(t ^ (t >> 14)) / 4294967296.0;
  }
};

struct Smem {
  double* G;  // K*K (reused for the fusion vectors after K-Means)
  double* S;  // k*K, cluster-major: S[c*K + i] = sum over the members j of c of G[i][j]
  double* q;  // k
  // per-cluster terms of the distances, computed once per cluster with the very operations of the
  // inline expressions (so the same values): q/n^2, n/(n+1), n/(n-1)
  double* qOverN2;
  double* up;
  double* down;  // k each
  double* dist;
  double* closest;
  double* cand;
  double* best;  // K each
  int* counts;   // k
  int* labels;   // K
  int* bestLabels;
  int* centres;  // k
  int* starts;   // k + 1: cluster c's members are members[starts[c] .. starts[c+1]), ascending
  int* members;  // K
};

/** Points m at the arrays that follow G in one buffer (shared memory, or the host's workspace). */
HSF_DEVICE void layoutSmem(Smem& m, double* afterG, int K, int k) {
  m.S = afterG;
  m.q = m.S + K * k;
  m.qOverN2 = m.q + k;
  m.up = m.qOverN2 + k;
  m.down = m.up + k;
  m.dist = m.down + k;
  m.closest = m.dist + K;
  m.cand = m.closest + K;
  m.best = m.cand + K;
  m.counts = (int*)(m.best + K);
  m.labels = m.counts + k;
  m.bestLabels = m.labels + K;
  m.centres = m.bestLabels + K;
  m.starts = m.centres + k;
  m.members = m.starts + k + 1;
}

HSF_DEVICE double pairDistance(const double* G, int K, int a, int b) {
  return dsub(dadd(G[a * K + a], G[b * K + b]), dmul(2.0, G[a * K + b]));
}

HSF_DEVICE double distanceToMean(double gii, double sic, double qc, int n) {
  const double nd = (double)n;
  return dadd(dsub(gii, ddiv(dmul(2.0, sic), nd)), ddiv(qc, dmul(nd, nd)));
}

/** distanceToMean with q_c / n_c^2 taken from m.qOverN2 (the same value, so the same result). */
HSF_DEVICE double distanceToCluster(const Smem& m, double gii, double sic, int c) {
  return dadd(dsub(gii, ddiv(dmul(2.0, sic), (double)m.counts[c])), m.qOverN2[c]);
}

/** One thread: the cached per-cluster terms of cluster c from m.q and m.counts. */
HSF_DEVICE void refreshCluster(Smem& m, int c) {
  const double nd = (double)m.counts[c];
  m.qOverN2[c] = ddiv(m.q[c], dmul(nd, nd));
  m.up[c] = ddiv(nd, nd + 1.0);
  m.down[c] = ddiv(nd, nd - 1.0);
}

// Step 2 (one thread): greedy k-means++, as seedCentres in kmeans-gram.ts.
HSF_DEVICE void seedCentres(const double* G, int K, int k, Smem& m, Rng& rng) {
  double* closest = m.closest;
  double* candidate = m.cand;
  double* best = m.best;
  const int trials = 2 + (int)floor(log((double)k));
  const int first = (int)floor(dmul(rng.next(), (double)K));
  m.centres[0] = first;
  double potential = 0;
  for (int i = 0; i < K; i++) {
    double d = pairDistance(G, K, i, first);
    d = d > 0.0 ? d : 0.0;
    closest[i] = d;
    potential = dadd(potential, d);
  }
  for (int c = 1; c < k; c++) {
    if (!(potential > 0)) {
      int p = 0;
      for (int i = 0; i < K; i++) {
        bool taken = false;
        for (int u = 0; u < c; u++) taken = taken || m.centres[u] == i;
        if (!taken) {
          p = i;
          break;
        }
      }
      m.centres[c] = p;
      potential = 0;
      for (int i = 0; i < K; i++) {
        double d = pairDistance(G, K, i, p);
        d = d > 0.0 ? d : 0.0;
        if (d < closest[i]) closest[i] = d;
        potential = dadd(potential, closest[i]);
      }
      continue;
    }
    int bestIndex = -1;
    double bestPotential = INFINITY;
    for (int t = 0; t < trials; t++) {
      const double target = dmul(rng.next(), potential);
      int pick = K - 1;
      double running = 0;
      for (int i = 0; i < K; i++) {
        running = dadd(running, closest[i]);
        if (running > target) {
          pick = i;
          break;
        }
      }
      double pot = 0;
      for (int i = 0; i < K; i++) {
        double d = pairDistance(G, K, i, pick);
        d = d > 0.0 ? d : 0.0;
        const double mn = d < closest[i] ? d : closest[i];
        candidate[i] = mn;
        pot = dadd(pot, mn);
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestIndex = pick;
        double* swap = best;
        best = candidate;
        candidate = swap;
      }
    }
    m.centres[c] = bestIndex;
    potential = bestPotential;
    double* swap = closest;
    closest = best;
    best = swap;
  }
}

// One thread: as fillEmptyClusters.
HSF_DEVICE void fillEmptyClusters(int K, int k, Smem& m) {
  for (int c = 0; c < k; c++) m.counts[c] = 0;
  for (int i = 0; i < K; i++) m.counts[m.labels[i]]++;
  for (int c = 0; c < k; c++) {
    if (m.counts[c] != 0) continue;
    int far = -1;
    double farD = -INFINITY;
    for (int i = 0; i < K; i++) {
      if (m.counts[m.labels[i]] > 1 && m.dist[i] > farD) {
        farD = m.dist[i];
        far = i;
      }
    }
    if (far < 0) continue;
    m.counts[m.labels[far]]--;
    m.labels[far] = c;
    m.counts[c] = 1;
    m.dist[far] = 0;
  }
}

// All threads, as memberSums: counts and the member lists (thread 0, a counting sort, so each list is
// ascending), rows of S (thread per row), Q and the cached per-cluster terms (thread per cluster).
// Summing each cluster's members in ascending order adds exactly what the reference's scatter over
// ascending j adds, in the same order, so S and Q are the same bits.
HSF_DEVICE void memberSums(const double* G, int K, int k, Smem& m) {
  if (threadIdx.x == 0) {
    for (int c = 0; c < k; c++) m.counts[c] = 0;
    for (int i = 0; i < K; i++) m.counts[m.labels[i]]++;
    m.starts[0] = 0;
    for (int c = 0; c < k; c++) m.starts[c + 1] = m.starts[c] + m.counts[c];
    for (int c = 0; c < k; c++) m.centres[c] = m.starts[c];  // fill cursors (centres are free here)
    for (int i = 0; i < K; i++) m.members[m.centres[m.labels[i]]++] = i;
  }
  __syncthreads();
  // Row i of S in thread i, reading G[j][i] for G[i][j] (G is symmetric, both hold the same bits):
  // consecutive threads read consecutive values, and on the host (one thread) the i loop has no
  // dependency chain, so the adds of many rows overlap.
  for (int i = threadIdx.x; i < K; i += blockDim.x)
    for (int c = 0; c < k; c++) m.S[c * K + i] = 0;
  for (int c = 0; c < k; c++) {
    for (int u = m.starts[c]; u < m.starts[c + 1]; u++) {
      const double* gj = G + m.members[u] * K;
      double* sc = m.S + c * K;
      for (int i = threadIdx.x; i < K; i += blockDim.x) sc[i] = dadd(sc[i], gj[i]);
    }
  }
  __syncthreads();
  for (int c = threadIdx.x; c < k; c += blockDim.x) {
    double acc = 0;
    for (int u = m.starts[c]; u < m.starts[c + 1]; u++) acc = dadd(acc, m.S[c * K + m.members[u]]);
    m.q[c] = acc;
    refreshCluster(m, c);
  }
  __syncthreads();
}

/**
 * K-Means on G (in shared memory), as kmeansFromGram: all threads of the block call it, thread 0
 * owns the serial decisions; the labels of the best init end in m.bestLabels. shFlag and shMove are
 * block-shared ints. Runs inits firstInit, firstInit + initStep, ... < n_init (each init draws from
 * its own seed, so the host can share them out between threads and keep the lowest inertia, the
 * lowest init on ties: the sequential result). Returns the best inertia (meaningful in thread 0);
 * *bestInit gets its init (-1 when no init ran).
 */
HSF_DEVICE double kmeansBlock(const double* G, int K, int k, const HsfKMeansParams& p, Smem& m, int& shFlag,
                              int& shMove, int firstInit = 0, int initStep = 1, int* bestInit = nullptr) {
  const int tid = threadIdx.x;
  double bestInertia = INFINITY;  // meaningful in thread 0
  if (bestInit) *bestInit = -1;
  Rng rng;
  for (int r = firstInit; r < p.n_init; r += initStep) {
    if (tid == 0) {
      rng.s = p.seed + (uint32_t)r * 0x9E3779B9u;
      seedCentres(G, K, k, m, rng);
    }
    __syncthreads();
    for (int i = tid; i < K; i += blockDim.x) {
      int bestC = 0;
      double bestD = INFINITY;
      for (int c = 0; c < k; c++) {
        const double d = pairDistance(G, K, i, m.centres[c]);
        if (d < bestD) {
          bestD = d;
          bestC = c;
        }
      }
      m.labels[i] = bestC;
      m.dist[i] = bestD;
    }
    __syncthreads();
    double inertia = INFINITY;  // thread 0's: the stop decision is made there and broadcast
    int iterations = 0;
    while (true) {
      if (tid == 0) fillEmptyClusters(K, k, m);
      __syncthreads();
      memberSums(G, K, k, m);
      if (tid == 0) shFlag = 0;
      __syncthreads();
      for (int i = tid; i < K; i += blockDim.x) {
        const double gii = G[i * K + i];
        const int own = m.labels[i];
        int bestC = own;  // a tie keeps the current cluster
        double bestD = distanceToCluster(m, gii, m.S[own * K + i], own);
        for (int c = 0; c < k; c++) {
          const double d = distanceToCluster(m, gii, m.S[c * K + i], c);
          if (d < bestD) {
            bestD = d;
            bestC = c;
          }
        }
        if (bestC != own) shFlag = 1;
        m.labels[i] = bestC;
        m.dist[i] = bestD;
      }
      __syncthreads();
      if (tid == 0) {
        double next = 0;
        for (int i = 0; i < K; i++) next = dadd(next, m.dist[i]);
        iterations++;
        const double drop = dsub(inertia, next);
        inertia = next;
        shMove = (!shFlag || drop <= dmul(p.tol, next) || iterations >= p.max_iter) ? 1 : 0;
      }
      __syncthreads();
      const int stop = shMove;
      __syncthreads();
      if (stop) break;
    }
    if (tid == 0) fillEmptyClusters(K, k, m);
    __syncthreads();
    if (p.hartigan) {
      for (int pass = 0; pass < p.max_iter; pass++) {
        memberSums(G, K, k, m);
        if (tid == 0) shFlag = 0;
        __syncthreads();
        for (int i = 0; i < K; i++) {
          if (tid == 0) {
            shMove = -1;
            const int a = m.labels[i];
            const int na = m.counts[a];
            if (na != 1) {
              const double gii = G[i * K + i];
              const double removeGain = dmul(m.down[a], distanceToCluster(m, gii, m.S[a * K + i], a));
              int bestB = -1;
              double bestCost = removeGain;
              for (int c = 0; c < k; c++) {
                if (c == a) continue;
                const double cost = dmul(m.up[c], distanceToCluster(m, gii, m.S[c * K + i], c));
                if (cost < bestCost) {
                  bestCost = cost;
                  bestB = c;
                }
              }
              if (bestB >= 0 && dsub(removeGain, bestCost) > dmul(1e-12, removeGain)) {
                m.q[a] = dadd(dsub(m.q[a], dmul(2.0, m.S[a * K + i])), gii);
                m.q[bestB] = dadd(dadd(m.q[bestB], dmul(2.0, m.S[bestB * K + i])), gii);
                m.counts[a]--;
                m.counts[bestB]++;
                refreshCluster(m, a);
                refreshCluster(m, bestB);
                m.labels[i] = bestB;
                shMove = a * k + bestB;  // encodes (from, to)
                shFlag = 1;
              }
            }
          }
          __syncthreads();
          const int mv = shMove;
          if (mv >= 0) {
            const int a = mv / k;
            const int bb = mv % k;
            for (int j = tid; j < K; j += blockDim.x) {
              const double gji = G[i * K + j];  // = G[j][i], read along the row
              m.S[a * K + j] = dsub(m.S[a * K + j], gji);
              m.S[bb * K + j] = dadd(m.S[bb * K + j], gji);
            }
          }
          __syncthreads();
        }
        const int moved = shFlag;
        __syncthreads();
        if (!moved) break;
      }
    }
    memberSums(G, K, k, m);
    if (tid == 0) {
      double total = 0;
      for (int i = 0; i < K; i++) {
        const int c = m.labels[i];
        total = dadd(total, distanceToMean(G[i * K + i], m.S[c * K + i], m.q[c], m.counts[c]));
      }
      shFlag = total < bestInertia ? 1 : 0;
      if (shFlag) {
        bestInertia = total;
        if (bestInit) *bestInit = r;
      }
    }
    __syncthreads();
    if (shFlag)
      for (int i = tid; i < K; i += blockDim.x) m.bestLabels[i] = m.labels[i];
    __syncthreads();
  }
  return bestInertia;
}

/**
 * One thread, as fuseAndScore: normalises the cluster feature f (D values, in place), writes
 * u' = normalise(alpha f + (1 - alpha) u) to fused and returns softmax(100 u'.t)[abnormal].
 */
template <typename T>
HSF_DEVICE float finishFusion(double* feature, double* fused, const T* u, const T* t, int D, double alpha) {
  double ss = 0;
  for (int d = 0; d < D; d++) ss = dadd(ss, dmul(feature[d], feature[d]));
  const double inv = ddiv(1.0, fmax(__dsqrt_rn(ss), 1e-12));
  for (int d = 0; d < D; d++) feature[d] = dmul(feature[d], inv);
  const double beta = dsub(1.0, alpha);
  ss = 0;
  for (int d = 0; d < D; d++) {
    fused[d] = dadd(dmul(alpha, feature[d]), dmul(beta, ld(u, d)));
    ss = dadd(ss, dmul(fused[d], fused[d]));
  }
  const double inv2 = ddiv(1.0, fmax(__dsqrt_rn(ss), 1e-12));
  double normal = 0, abnormal = 0;
  for (int d = 0; d < D; d++) {
    fused[d] = dmul(fused[d], inv2);
    normal = dadd(normal, dmul(fused[d], ld(t, d)));
    abnormal = dadd(abnormal, dmul(fused[d], ld(t, D + d)));
  }
  return (float)ddiv(1.0, dadd(1.0, exp(dsub(dmul(100.0, normal), dmul(100.0, abnormal)))));
}

/**
 * Gram matrices of a batch, as gramEntry in src/hsf/gram.ts: four float64 partial sums by e mod 4 in
 * ascending e, then (s0 + s1) + (s2 + s3). Grid (upper-triangle TILE x TILE tiles, B); block
 * TILE*TILE threads, one entry each; rows are staged in shared memory CHUNK values at a time. The
 * tiling changes which entries are computed together, never one entry's order of additions, so any
 * TILE gives the same G (the CPU emulation uses a small one). gram: [B,K,K].
 */
template <typename T, int TILE>
HSF_GLOBAL void HSF_LAUNCH_BOUNDS(TILE* TILE) gramKernel(const T* tokens, int K, int n, double* gram) {
  constexpr int CHUNK = 32;  // a multiple of 4: a chunk starts at e = 0 (mod 4)
  HSF_SHARED(double, rowsI[TILE * CHUNK]);
  HSF_SHARED(double, rowsJ[TILE * CHUNK]);
  const int tiles = (K + TILE - 1) / TILE;
  int rest = blockIdx.x;
  int tileRow = 0;
  while (rest >= tiles - tileRow) {
    rest -= tiles - tileRow;
    tileRow++;
  }
  const int tileCol = tileRow + rest;
  const int b = blockIdx.y;
  const T* X = tokens + (size_t)b * K * n;
  const int tx = threadIdx.x % TILE;
  const int ty = threadIdx.x / TILE;
  const int i = tileRow * TILE + ty;
  const int j = tileCol * TILE + tx;
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int e0 = 0; e0 < n; e0 += CHUNK) {
    for (int q = threadIdx.x; q < TILE * CHUNK; q += blockDim.x) {
      const int r = q / CHUNK;
      const int e = e0 + q % CHUNK;
      const int ri = tileRow * TILE + r;
      const int rj = tileCol * TILE + r;
      rowsI[q] = (ri < K && e < n) ? ld(X, (size_t)ri * n + e) : 0.0;
      rowsJ[q] = (rj < K && e < n) ? ld(X, (size_t)rj * n + e) : 0.0;
    }
    __syncthreads();
    const int len = n - e0 < CHUNK ? n - e0 : CHUNK;
    const double* xi = rowsI + ty * CHUNK;
    const double* xj = rowsJ + tx * CHUNK;
    int c = 0;
    for (; c + 3 < len; c += 4) {
      s0 = dadd(s0, dmul(xi[c], xj[c]));
      s1 = dadd(s1, dmul(xi[c + 1], xj[c + 1]));
      s2 = dadd(s2, dmul(xi[c + 2], xj[c + 2]));
      s3 = dadd(s3, dmul(xi[c + 3], xj[c + 3]));
    }
    if (c < len) s0 = dadd(s0, dmul(xi[c], xj[c]));
    if (c + 1 < len) s1 = dadd(s1, dmul(xi[c + 1], xj[c + 1]));
    if (c + 2 < len) s2 = dadd(s2, dmul(xi[c + 2], xj[c + 2]));
    __syncthreads();
  }
  if (i < K && j < K) {
    const double v = dadd(dadd(s0, s1), dadd(s2, s3));
    gram[(size_t)b * K * K + (size_t)i * K + j] = v;
    gram[(size_t)b * K * K + (size_t)j * K + i] = v;
  }
}

/** Number of upper-triangle tiles of a K x K Gram matrix (gramKernel's grid.x). */
inline int gramTiles(int K, int tile) {
  const int t = (K + tile - 1) / tile;
  return t * (t + 1) / 2;
}

template <typename T>
HSF_GLOBAL void HSF_LAUNCH_BOUNDS(kThreads) hsfKernel(const T* tokens, const T* uIn, const T* tIn, int K, int L, int D,
                                                      int k, double alpha, HsfKMeansParams p, float* scores,
                                                      float* fusedOut, float* featureOut, int32_t* labelsOut,
                                                      double* inertiaOut, const double* gram) {
  HSF_DYNAMIC_SHARED(double, smem);
  const int gSize = K * K > 2 * D ? K * K : 2 * D;
  Smem m;
  m.G = smem;
  layoutSmem(m, m.G + gSize, K, k);
  HSF_SHARED(int, shFlag);
  HSF_SHARED(int, shMove);
  HSF_SHARED(int, shBad);

  const int b = blockIdx.x;
  const int tid = threadIdx.x;
  const int n = L * D;
  const T* X = tokens + (size_t)b * K * n;
  double* G = m.G;

  // G from gramKernel (global memory) into shared memory
  const double* gIn = gram + (size_t)b * K * K;
  for (int e = tid; e < K * K; e += blockDim.x) G[e] = gIn[e];
  __syncthreads();
  if (tid == 0) shBad = 0;
  __syncthreads();
  for (int i = tid; i < K; i += blockDim.x)
    if (!isfinite(G[i * K + i])) shBad = 1;
  __syncthreads();
  if (shBad) {
    if (tid == 0) {
      scores[b] = NAN;
      if (inertiaOut) inertiaOut[b] = NAN;
    }
    for (int i = tid; labelsOut && i < K; i += blockDim.x) labelsOut[(size_t)b * K + i] = -1;
    return;
  }

  // K-Means, as kmeansFromGram. Thread 0 owns the serial decisions.
  const double bestInertia = kmeansBlock(G, K, k, p, m, shFlag, shMove);

  // Fusion, as clusterCentres + fuseAndScore. G is free now: it holds f and u'.
  if (tid == 0) {
    for (int c = 0; c < k; c++) m.counts[c] = 0;
    for (int i = 0; i < K; i++) m.counts[m.bestLabels[i]]++;
  }
  __syncthreads();
  double* feature = m.G;
  double* fused = m.G + D;
  int nonEmpty = 0;
  for (int c = 0; c < k; c++) nonEmpty += m.counts[c] > 0 ? 1 : 0;
  for (int d = tid; d < D; d += blockDim.x) {
    double f = 0;
    for (int c = 0; c < k; c++) {
      if (m.counts[c] == 0) continue;
      double acc = 0;
      for (int i = 0; i < K; i++) {
        if (m.bestLabels[i] != c) continue;
        for (int l = 0; l < L; l++) acc = dadd(acc, ld(X, ((size_t)i * L + l) * D + d));
      }
      const double inv = ddiv(1.0, (double)(m.counts[c] * L));
      f = dadd(f, dmul(acc, inv));
    }
    feature[d] = ddiv(f, (double)nonEmpty);
  }
  __syncthreads();
  if (tid == 0) {
    scores[b] = finishFusion(feature, fused, uIn + (size_t)b * D, tIn + (size_t)b * 2 * D, D, alpha);
    if (inertiaOut) inertiaOut[b] = bestInertia;
  }
  __syncthreads();
  for (int d = tid; d < D; d += blockDim.x) {
    if (fusedOut) fusedOut[(size_t)b * D + d] = (float)fused[d];
    if (featureOut) featureOut[(size_t)b * D + d] = (float)feature[d];
  }
  for (int i = tid; labelsOut && i < K; i += blockDim.x) labelsOut[(size_t)b * K + i] = m.bestLabels[i];
}

HSF_GLOBAL void topkGatherKernel(const float* patch, const float* tIn, int L, int N, int D, int K, float* out,
                                 int32_t* indices) {
  HSF_DYNAMIC_SHARED(float, score);  // N
  const int b = blockIdx.x;
  const float* t = tIn + (size_t)b * 2 * D;
  const float* P = patch + (size_t)b * L * N * D;
  for (int q = threadIdx.x; q < N; q += blockDim.x) {
    float zn = 0, za = 0;
    for (int l = 0; l < L; l++) {
      const float* row = P + ((size_t)l * N + q) * D;
      float dn = 0, da = 0;
      for (int d = 0; d < D; d++) {
        dn += row[d] * t[d];
        da += row[d] * t[D + d];
      }
      zn += 100.0f * dn;
      za += 100.0f * da;
    }
    // softmax over {normal, abnormal} of the layer means, abnormal channel
    score[q] = 1.0f / (1.0f + expf((zn - za) / (float)L));
  }
  __syncthreads();
  int32_t* idx = indices + (size_t)b * K;
  for (int q = threadIdx.x; q < N; q += blockDim.x) {
    const float s = score[q];
    int rank = 0;
    for (int o = 0; o < N; o++) rank += (score[o] > s || (score[o] == s && o < q)) ? 1 : 0;
    if (rank < K) idx[rank] = q;
  }
  __syncthreads();
  const size_t total = (size_t)K * L * D;
  for (size_t e = threadIdx.x; e < total; e += blockDim.x) {
    const int r = (int)(e / ((size_t)L * D));
    const int l = (int)((e / D) % L);
    const int d = (int)(e % D);
    out[(size_t)b * total + e] = P[((size_t)l * N + idx[r]) * D + d];
  }
}

}  // namespace HSF_NAMESPACE
