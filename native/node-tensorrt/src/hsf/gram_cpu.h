// G = X X^T of one image's selected tokens on the CPU, bit-identical to src/hsf/gram.ts (four float64
// partial sums by e mod 4 in ascending e, then (s0 + s1) + (s2 + s3)) and to the CUDA gramKernel.
#pragma once
#include <vector>

namespace hsf_cpu {

/**
 * The rows re-laid chunk by chunk (every row's values [e0, e0 + chunk), then the next chunk), with
 * zero rows and a zero tail as padding: the kernel then reads each chunk as one contiguous block
 * that the hardware prefetcher streams, instead of 100 rows 12 KB apart.
 */
struct PackedRows {
  std::vector<float> data;
  int rows = 0, n = 0, rowsPad = 0, chunks = 0;
};

/** Packs x (rows x n float32, row-major) into p, reusing its storage. */
void packRows(const float* x, int rows, int n, PackedRows* p);

/** The same in parts for several threads: sizePackedRows once, then packChunks(part) on each. */
void sizePackedRows(int rows, int n, PackedRows* p);
void packChunks(const float* x, PackedRows* p, int part, int parts);

/** Rows [rowBegin, rowEnd) of the upper triangle of G (and their mirror): g is rows x rows. */
void gramRows(const PackedRows& p, int rowBegin, int rowEnd, double* g);

/** Splits the upper triangle into `parts` row ranges of about equal work; part p is [bounds[p], bounds[p+1]). */
void gramPartition(int rows, int parts, int* bounds);

/** "avx2" when the AVX2 + FMA kernel runs on this CPU, else "scalar". */
const char* gramKernelName();

}  // namespace hsf_cpu
