// The Gram matrix of HSF on the CPU. Hand-written because its value is part of our contract: every
// implementation (TypeScript, WebAssembly, CUDA, this) must give the same bits, so that K-Means gives
// the same labels everywhere; a BLAS would sum in its own order. The order is four float64 lanes,
// lane r = sum over e = r (mod 4) in ascending e, then (s0 + s1) + (s2 + s3): exactly one AVX2
// register per pair. A product of two float32 is exact in float64, so a fused multiply-add rounds
// once, as the reference's multiply-then-add does, and FMA changes no bit.
#include "gram_cpu.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define HSF_GRAM_X86 1
#endif

namespace hsf_cpu {
namespace {

// Values of e per pass over the rows: 100 rows x 256 floats (100 KB) stay in L2 while every tile of
// the triangle takes its share, so the rows are read from memory once instead of once per row block.
constexpr int kChunk = 256;  // a multiple of 4: a chunk starts at e = 0 (mod 4)
constexpr int kTileI = 3;    // 3 x 4 accumulators + 3 row vectors + 1 = 16 ymm registers
constexpr int kTileJ = 4;

void storePair(double* g, int rows, int i, int j, double v) {
  g[(size_t)i * rows + j] = v;
  g[(size_t)j * rows + i] = v;
}

const float* block(const PackedRows& p, int chunk, int row) {
  return p.data.data() + ((size_t)chunk * p.rowsPad + row) * kChunk;
}

// The padding (zero rows, zero tail) adds +0.0 to a lane, which changes no sum.
void gramRowsScalar(const PackedRows& p, int rowBegin, int rowEnd, double* g) {
  for (int i = rowBegin; i < rowEnd; i++) {
    for (int j = i; j < p.rows; j++) {
      double s[4] = {0, 0, 0, 0};
      for (int c = 0; c < p.chunks; c++) {
        const float* xi = block(p, c, i);
        const float* xj = block(p, c, j);
        for (int e = 0; e < kChunk; e++) s[e & 3] += (double)xi[e] * (double)xj[e];
      }
      storePair(g, p.rows, i, j, (s[0] + s[1]) + (s[2] + s[3]));
    }
  }
}

#ifdef HSF_GRAM_X86
__attribute__((target("avx2,fma"))) inline __m256d load4(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }

__attribute__((target("avx2,fma"))) void gramRowsAvx2(const PackedRows& p, int rowBegin, int rowEnd, double* g) {
  struct Tile {
    int i0, j0;
  };
  // scratch kept per thread: allocating it on every call costs page faults each time
  thread_local std::vector<Tile> tiles;
  thread_local std::vector<double> acc;
  tiles.clear();
  for (int i0 = rowBegin; i0 < rowEnd; i0 += kTileI)
    for (int j0 = i0; j0 < p.rows; j0 += kTileJ) tiles.push_back({i0, j0});
  acc.assign(tiles.size() * kTileI * kTileJ * 4, 0.0);  // 4 lanes per pair

  for (int c = 0; c < p.chunks; c++) {
    for (size_t t = 0; t < tiles.size(); t++) {
      const int i0 = tiles[t].i0, j0 = tiles[t].j0;
      // rows of the i block that belong to another thread's range are computed but not stored
      const float* ap[kTileI];
      const float* bp[kTileJ];
      for (int a = 0; a < kTileI; a++) ap[a] = block(p, c, i0 + a);
      for (int b = 0; b < kTileJ; b++) bp[b] = block(p, c, j0 + b);
      // 12 accumulators: the loops below are unrolled whole, so they stay in registers
      double* s = &acc[t * kTileI * kTileJ * 4];
      __m256d sum[kTileI][kTileJ];
      for (int a = 0; a < kTileI; a++)
        for (int b = 0; b < kTileJ; b++) sum[a][b] = _mm256_loadu_pd(s + 4 * (a * kTileJ + b));
      for (int e = 0; e < kChunk; e += 4) {
        __m256d av[kTileI];
        for (int a = 0; a < kTileI; a++) av[a] = load4(ap[a] + e);
        for (int b = 0; b < kTileJ; b++) {
          const __m256d bv = load4(bp[b] + e);
          for (int a = 0; a < kTileI; a++) sum[a][b] = _mm256_fmadd_pd(av[a], bv, sum[a][b]);
        }
      }
      for (int a = 0; a < kTileI; a++)
        for (int b = 0; b < kTileJ; b++) _mm256_storeu_pd(s + 4 * (a * kTileJ + b), sum[a][b]);
    }
  }
  for (size_t t = 0; t < tiles.size(); t++) {
    for (int a = 0; a < kTileI; a++) {
      const int i = tiles[t].i0 + a;
      if (i >= rowEnd) continue;
      for (int b = 0; b < kTileJ; b++) {
        const int j = tiles[t].j0 + b;
        if (j >= p.rows || j < i) continue;
        const double* lanes = &acc[(t * kTileI * kTileJ + a * kTileJ + b) * 4];
        storePair(g, p.rows, i, j, (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
      }
    }
  }
}

// NTRT_HSF_SCALAR=1 takes the portable loop (what an aarch64 Jetson runs), so tests can check it here.
bool hasAvx2() {
  static const bool yes =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !std::getenv("NTRT_HSF_SCALAR");
  return yes;
}
#endif

}  // namespace

void sizePackedRows(int rows, int n, PackedRows* p) {
  p->rows = rows;
  p->n = n;
  // whole tiles of rows (3 and 4 divide 12) and whole chunks of values, the rest zeros
  p->rowsPad = (rows + 11) / 12 * 12;
  p->chunks = (n + kChunk - 1) / kChunk;
  p->data.resize((size_t)p->chunks * p->rowsPad * kChunk);
}

void packChunks(const float* x, PackedRows* p, int part, int parts) {
  for (int c = part; c < p->chunks; c += parts) {
    const int e0 = c * kChunk;
    const int len = std::min(kChunk, p->n - e0);
    for (int r = 0; r < p->rowsPad; r++) {
      float* dst = p->data.data() + ((size_t)c * p->rowsPad + r) * kChunk;
      if (r < p->rows) {
        std::memcpy(dst, x + (size_t)r * p->n + e0, len * sizeof(float));
        std::memset(dst + len, 0, (kChunk - len) * sizeof(float));
      } else {
        std::memset(dst, 0, kChunk * sizeof(float));
      }
    }
  }
}

void packRows(const float* x, int rows, int n, PackedRows* p) {
  sizePackedRows(rows, n, p);
  packChunks(x, p, 0, 1);
}

void gramRows(const PackedRows& p, int rowBegin, int rowEnd, double* g) {
#ifdef HSF_GRAM_X86
  if (hasAvx2()) return gramRowsAvx2(p, rowBegin, rowEnd, g);
#endif
  gramRowsScalar(p, rowBegin, rowEnd, g);
}

void gramPartition(int rows, int parts, int* bounds) {
  // row i costs (rows - i) pairs; cut where the running total passes p/parts of the whole
  const double total = (double)rows * (rows + 1) / 2;
  bounds[0] = 0;
  int p = 1;
  double run = 0;
  for (int i = 0; i < rows && p < parts; i++) {
    run += rows - i;
    if (run >= total * p / parts) bounds[p++] = i + 1;
  }
  while (p <= parts) bounds[p++] = rows;
}

const char* gramKernelName() {
#ifdef HSF_GRAM_X86
  if (hasAvx2()) return "avx2";
#endif
  return "scalar";
}

}  // namespace hsf_cpu
