// The AVX2 row kernels (pp_cpu_rows.h). Every function carries target("avx2"), so this file builds
// into any x86-64 addon and pp_cpu.cpp calls it only where the CPU has AVX2.
//
// The 22-bit coefficient k of a tap is split k = hi * 2^15 + lo with 0 <= lo < 2^15, both int16, so
// vpmaddwd (int16 x int16 pairs summed into int32) can take it: the sum is formed as
// (sum hi * p) << 15 + (sum lo * p) in wrapping int32, equal to PIL's sum because that fits int32.
//
// Horizontal: per output pixel and group of 4 taps, the 16 bytes from the window (4 pixels, 3
// channels) are broadcast to both 128-bit lanes and shuffled into int16 pairs: lane 0 holds taps
// 0,1 of channels 0,1,2, lane 1 taps 2,3; one vpmaddwd per half of the coefficient adds all 12
// products into the channels' lanes. Four pixels are packed (clip8 by saturation) and spread into
// the three planes.
// Vertical: 32 columns at a time; two source rows are interleaved bytewise into int16 pairs and
// multiplied with the pair of their coefficients (both halves); then clip8 by saturating packs,
// (v / 255 - mean) / std in float32, stores. The last 32 columns are taken from S - 32 (overlapping
// the previous chunk with the same values), so nothing is read or written past S.
#include "preprocess/pp_cpu_rows.h"

#ifdef PP_CPU_X86
#include <immintrin.h>

#include <cstring>

#include "preprocess/pp_kernels.cuh"

#define PP_AVX2 __attribute__((target("avx2")))

namespace pp {
namespace {

/** Channel sums of output pixel x, >> 22: [c0, c1, c2, 0]. Q: groups of 4 taps (0: h.quads, a loop). */
template <int Q>
PP_AVX2 inline __m128i pixelSums(const HorizontalTaps& h, const uint8_t* src, int x, __m256i gather) {
  const int quads = Q > 0 ? Q : h.quads;
  const uint8_t* p = src + h.offset[x];
  const __m256i* k = reinterpret_cast<const __m256i*>(h.packed + (size_t)x * quads * 32);
  __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int q = 0; q < quads; q++) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12 * q)));
    const __m256i s = _mm256_shuffle_epi8(v, gather);
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(s, _mm256_loadu_si256(k + 2 * q)));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(s, _mm256_loadu_si256(k + 2 * q + 1)));
  }
  const __m256i t = _mm256_add_epi32(_mm256_slli_epi32(hi, 15), lo);
  const __m128i u = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  return _mm_srai_epi32(_mm_add_epi32(u, _mm_set1_epi32(kRoundHalf)), kPrecisionBits);
}

PP_AVX2 inline void store4(uint8_t* dst, __m128i v) {
  const int32_t w = _mm_cvtsi128_si32(v);
  std::memcpy(dst, &w, 4);
}

PP_AVX2 inline void storeNormalised(float* out, __m128i bytes8, __m256 k255, __m256 mean, __m256 std) {
  const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes8));
  _mm256_storeu_ps(out, _mm256_div_ps(_mm256_sub_ps(_mm256_div_ps(v, k255), mean), std));
}

template <int Q>
PP_AVX2 void horizontalRow(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2,
                           uint8_t* tail) {
  const __m256i gather = _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,  //
                                          6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
  // [p0 c0 c1 c2 _, p1 ..., p2 ..., p3 ...] -> [c0 of p0..p3, c1 of p0..p3, c2 of p0..p3, _]
  const __m128i planes = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, -1, -1, -1, -1);
  int x = 0;
  for (; x + 4 <= h.simdEnd; x += 4) {
    const __m128i r0 = pixelSums<Q>(h, src, x, gather), r1 = pixelSums<Q>(h, src, x + 1, gather);
    const __m128i r2 = pixelSums<Q>(h, src, x + 2, gather), r3 = pixelSums<Q>(h, src, x + 3, gather);
    const __m128i b = _mm_shuffle_epi8(_mm_packus_epi16(_mm_packs_epi32(r0, r1), _mm_packs_epi32(r2, r3)), planes);
    store4(d0 + x, b);
    store4(d1 + x, _mm_srli_si128(b, 4));
    store4(d2 + x, _mm_srli_si128(b, 8));
  }
  // the last pixels: their windows read past the row, so from a zero-padded copy of its end
  const uint8_t* base = src;
  for (; x < h.S; x++) {
    if (x == h.simdEnd) {
      std::memcpy(tail, src + h.tailFrom, (size_t)h.inWidth * 3 - h.tailFrom);
      base = tail - h.tailFrom;
    }
    const __m128i b = _mm_packus_epi16(_mm_packs_epi32(pixelSums<Q>(h, base, x, gather), _mm_setzero_si128()),
                                       _mm_setzero_si128());
    const int32_t w = _mm_cvtsi128_si32(b);
    d0[x] = (uint8_t)w;
    d1[x] = (uint8_t)(w >> 8);
    d2[x] = (uint8_t)(w >> 16);
  }
}

}  // namespace

PP_AVX2 void horizontalAvx2(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2,
                            uint8_t* tail) {
  switch (h.quads) {  // the usual window widths unrolled
    case 1:
      return horizontalRow<1>(h, src, d0, d1, d2, tail);
    case 2:
      return horizontalRow<2>(h, src, d0, d1, d2, tail);
    case 3:
      return horizontalRow<3>(h, src, d0, d1, d2, tail);
    case 4:
      return horizontalRow<4>(h, src, d0, d1, d2, tail);
    case 5:
      return horizontalRow<5>(h, src, d0, d1, d2, tail);
    case 6:
      return horizontalRow<6>(h, src, d0, d1, d2, tail);
    case 7:
      return horizontalRow<7>(h, src, d0, d1, d2, tail);
    case 8:
      return horizontalRow<8>(h, src, d0, d1, d2, tail);
    default:
      return horizontalRow<0>(h, src, d0, d1, d2, tail);
  }
}

PP_AVX2 void verticalAvx2(const VerticalRow& v, int S, Normalise nm, float* out) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256 k255 = _mm256_set1_ps(255.0f), mean = _mm256_set1_ps(nm.mean), std = _mm256_set1_ps(nm.std);
  for (int x = 0;; x += 32) {
    if (x > S - 32) x = S - 32;
    __m256i lo0 = _mm256_set1_epi32(kRoundHalf), lo1 = lo0, lo2 = lo0, lo3 = lo0;
    __m256i hi0 = zero, hi1 = zero, hi2 = zero, hi3 = zero;
    for (int j = 0; j < v.n; j += 2) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v.rows[j] + x));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v.rows[j + 1 < v.n ? j + 1 : j] + x));
      const __m256i kl = _mm256_set1_epi32(v.pairs[j]), kh = _mm256_set1_epi32(v.pairs[j + 1]);
      const __m256i l8 = _mm256_unpacklo_epi8(a, b), h8 = _mm256_unpackhi_epi8(a, b);
      // columns 0-3|16-19, 4-7|20-23, 8-11|24-27, 12-15|28-31 (in-lane unpacks)
      const __m256i w0 = _mm256_unpacklo_epi8(l8, zero), w1 = _mm256_unpackhi_epi8(l8, zero);
      const __m256i w2 = _mm256_unpacklo_epi8(h8, zero), w3 = _mm256_unpackhi_epi8(h8, zero);
      lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(w0, kl));
      hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(w0, kh));
      lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(w1, kl));
      hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(w1, kh));
      lo2 = _mm256_add_epi32(lo2, _mm256_madd_epi16(w2, kl));
      hi2 = _mm256_add_epi32(hi2, _mm256_madd_epi16(w2, kh));
      lo3 = _mm256_add_epi32(lo3, _mm256_madd_epi16(w3, kl));
      hi3 = _mm256_add_epi32(hi3, _mm256_madd_epi16(w3, kh));
    }
    const __m256i v0 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi0, 15), lo0), kPrecisionBits);
    const __m256i v1 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi1, 15), lo1), kPrecisionBits);
    const __m256i v2 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi2, 15), lo2), kPrecisionBits);
    const __m256i v3 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi3, 15), lo3), kPrecisionBits);
    // the in-lane packs undo the in-lane unpacks: bytes 0..31 in column order, clipped to 0..255
    const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(v0, v1), _mm256_packs_epi32(v2, v3));
    const __m128i low = _mm256_castsi256_si128(bytes), high = _mm256_extracti128_si256(bytes, 1);
    storeNormalised(out + x, low, k255, mean, std);
    storeNormalised(out + x + 8, _mm_srli_si128(low, 8), k255, mean, std);
    storeNormalised(out + x + 16, high, k255, mean, std);
    storeNormalised(out + x + 24, _mm_srli_si128(high, 8), k255, mean, std);
    if (x == S - 32) break;
  }
}

}  // namespace pp
#endif  // PP_CPU_X86
