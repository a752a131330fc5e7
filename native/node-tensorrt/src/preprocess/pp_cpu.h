// Camera-frame preprocessing on the CPU, fast: PIL's antialiased bicubic resize (the same 22-bit
// fixed-point taps, horizontal pass then vertical pass, each rounding and clipping to uint8) and the
// CLIP normalisation, for one frame geometry. The result is bit for bit what the per-element kernels
// of pp_kernels.cuh compute (and so src/preprocess/pil-resample.ts, PIL and torchvision); only the
// order of work differs:
// - the passes are banded: each output row's vertical pass runs as soon as the horizontal pass has
//   made the source rows it reads, kept in a small ring of rows that stays in the L1/L2 cache;
// - the horizontal pass writes three planes (one per channel) so the vertical pass reads and writes
//   contiguous rows of one channel;
// - the row kernels are SIMD where the CPU has it (AVX2 on x86-64, NEON on aarch64), with a portable
//   C++ kernel everywhere else (pp_cpu_rows.h);
// - threads > 1 split the output rows; each thread makes the source rows its band reads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pp {

enum class CpuKernel { Portable, Avx2, Neon };

/** The best kernel this CPU runs. */
CpuKernel bestCpuKernel();
/** Whether this build and CPU run `k`. */
bool cpuKernelRuns(CpuKernel k);
const char* cpuKernelName(CpuKernel k);
/** "portable", "avx2" or "neon" -> the kernel; false for another name. */
bool parseCpuKernel(const std::string& name, CpuKernel* k);

class CpuResizer {
 public:
  /**
   * Resizes inWidth x inHeight frames (3 interleaved channels, the upright ROI) to size x size and
   * normalises them with mean/std (float32, RGB order). Throws std::invalid_argument for bad sizes or
   * a kernel this machine does not run.
   */
  CpuResizer(int inWidth, int inHeight, int size, const float mean[3], const float std[3], int threads,
             CpuKernel kernel);
  ~CpuResizer();
  CpuResizer(const CpuResizer&) = delete;
  CpuResizer& operator=(const CpuResizer&) = delete;

  /**
   * src: the first pixel of the image, `stride` bytes between rows (>= inWidth * 3); the bytes
   * src[0 .. (inHeight - 1) * stride + inWidth * 3) are read. bgr: the channels are B,G,R (OpenCV),
   * else R,G,B. out: float32 [3, size, size] in R,G,B order.
   */
  void run(const uint8_t* src, size_t stride, bool bgr, float* out);

  int inWidth() const { return inWidth_; }
  int inHeight() const { return inHeight_; }
  int size() const { return size_; }
  int threads() const { return threads_; }
  CpuKernel kernel() const { return kernel_; }

  struct Impl;

 private:
  int inWidth_, inHeight_, size_, threads_;
  CpuKernel kernel_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pp
