// The row kernels of the CPU preprocessing (pp_cpu.cpp drives them): one source row through the
// horizontal pass into three channel planes, and one output row of one channel through the vertical
// pass and the normalisation. Each kernel computes exactly the integer sums of pp_kernels.cuh
// (horizontalAt, verticalAt) and the same three float32 operations of normalise(): a SIMD kernel may
// form a sum in wrapping int32 pieces (the 22-bit coefficient split into 15-bit halves), which is
// exact because the true sum fits int32, as in PIL.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pp {

/** The horizontal taps of one axis (inWidth -> S) in the forms the kernels read. */
struct HorizontalTaps {
  int S = 0;
  int inWidth = 0;
  /** Groups of 4 taps per output pixel: the widest window, rounded up; shorter ones are zero padded. */
  int quads = 0;
  /** Per output pixel: byte offset of its window (start * 3) and its taps (PIL's). */
  const int32_t* offset = nullptr;
  const int32_t* count = nullptr;
  /** Per output pixel, quads * 4 coefficients (zero past count). */
  const int32_t* coeffs = nullptr;
  /** Per output pixel, per quad: 16 int16 low halves then 16 high halves (AVX2 layout, see pp_cpu_avx2.cpp). */
  const int16_t* packed = nullptr;
  /**
   * The SIMD kernels read 16 bytes per group of taps from the window start. For output pixels
   * [0, simdEnd) those reads stay inside the row; the others read a copy of the row's end from byte
   * tailFrom on, zero padded to tailBytes (the caller's `tail` scratch, zeroed once).
   */
  int simdEnd = 0;
  int tailFrom = 0;
  int tailBytes = 0;
};

/** The vertical taps of one output row. */
struct VerticalRow {
  /** The `n` source rows (channel plane rows) and their coefficients. */
  const uint8_t* const* rows;
  const int32_t* coeffs;
  int n;
  /**
   * Per pair of taps (j, j + 1), two int32: the low 15 bits of both as int16 (tap j in the low
   * half), then the high parts likewise; an odd last tap is paired with a zero coefficient.
   */
  const int32_t* pairs;
};

/** The normalisation of one channel: (v / 255 - mean) / std in float32. */
struct Normalise {
  float mean, std;
};

// Portable C++: every platform.
void horizontalPortable(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2, int x0,
                        int x1);
/** `acc`: scratch of S int32. */
void verticalPortable(const VerticalRow& v, int S, Normalise nm, int32_t* acc, float* out);

#if defined(__x86_64__) || defined(__i386__)
#define PP_CPU_X86 1
// AVX2 (pp_cpu_avx2.cpp, compiled for AVX2 whatever the build's target; called only where the CPU has it)
void horizontalAvx2(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2,
                    uint8_t* tail);
/** S >= 32. */
void verticalAvx2(const VerticalRow& v, int S, Normalise nm, float* out);
#endif

#if defined(__aarch64__)
#define PP_CPU_NEON 1
// NEON (pp_cpu_neon.cpp): baseline on aarch64
void horizontalNeon(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2,
                    uint8_t* tail);
/** S >= 16. */
void verticalNeon(const VerticalRow& v, int S, Normalise nm, float* out);
#endif

}  // namespace pp
