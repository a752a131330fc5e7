// The NEON row kernels (pp_cpu_rows.h) for aarch64, where NEON is baseline. NEON multiplies int32
// lanes at full rate, so the 22-bit coefficients are used whole (no split into halves):
// Horizontal: per output pixel and group of 4 taps, the 16 bytes from the window are spread by
// table lookups into int32 lanes [c0, c1, c2, 0] of one pixel and multiplied-accumulated with that
// tap's coefficient; four pixels are narrowed with saturation (clip8) and spread into the planes.
// Vertical: 16 columns at a time, widened to int32 and multiplied-accumulated per tap; clip8, then
// (v / 255 - mean) / std in float32 (vdivq_f32 rounds correctly, as torch's division does). The
// last 16 columns are taken from S - 16, so nothing is read or written past S.
#include "preprocess/pp_cpu_rows.h"

#ifdef PP_CPU_NEON
#include <arm_neon.h>

#include <cstring>

#include "preprocess/pp_kernels.cuh"

namespace pp {
namespace {

// byte b of pixel t's channel c -> int32 lane c (little-endian: low byte first, the rest zero)
constexpr uint8_t kZ = 0xff;  // out of range: vqtbl1q_u8 yields 0
const uint8_t kSpread[4][16] = {
    {0, kZ, kZ, kZ, 1, kZ, kZ, kZ, 2, kZ, kZ, kZ, kZ, kZ, kZ, kZ},
    {3, kZ, kZ, kZ, 4, kZ, kZ, kZ, 5, kZ, kZ, kZ, kZ, kZ, kZ, kZ},
    {6, kZ, kZ, kZ, 7, kZ, kZ, kZ, 8, kZ, kZ, kZ, kZ, kZ, kZ, kZ},
    {9, kZ, kZ, kZ, 10, kZ, kZ, kZ, 11, kZ, kZ, kZ, kZ, kZ, kZ, kZ},
};
const uint8_t kPlanes[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, kZ, kZ, kZ, kZ};

/** Channel sums of output pixel x, >> 22: [c0, c1, c2, 0]. Q: groups of 4 taps (0: h.quads, a loop). */
template <int Q>
inline int32x4_t pixelSums(const HorizontalTaps& h, const uint8_t* src, int x, const uint8x16_t spread[4]) {
  const int quads = Q > 0 ? Q : h.quads;
  const uint8_t* p = src + h.offset[x];
  const int32_t* k = h.coeffs + (size_t)x * quads * 4;
  int32x4_t acc = vdupq_n_s32(kRoundHalf);
#pragma GCC unroll 8
  for (int q = 0; q < quads; q++) {
    const uint8x16_t v = vld1q_u8(p + 12 * q);
    const int32x4_t kq = vld1q_s32(k + 4 * q);
    acc = vmlaq_laneq_s32(acc, vreinterpretq_s32_u8(vqtbl1q_u8(v, spread[0])), kq, 0);
    acc = vmlaq_laneq_s32(acc, vreinterpretq_s32_u8(vqtbl1q_u8(v, spread[1])), kq, 1);
    acc = vmlaq_laneq_s32(acc, vreinterpretq_s32_u8(vqtbl1q_u8(v, spread[2])), kq, 2);
    acc = vmlaq_laneq_s32(acc, vreinterpretq_s32_u8(vqtbl1q_u8(v, spread[3])), kq, 3);
  }
  return vshrq_n_s32(acc, kPrecisionBits);
}

inline uint8x8_t clip8x8(int32x4_t a, int32x4_t b) {
  return vqmovn_u16(vcombine_u16(vqmovun_s32(a), vqmovun_s32(b)));
}

inline void storeNormalised(float* out, int32x4_t v, float32x4_t k255, float32x4_t mean, float32x4_t std) {
  const float32x4_t f = vcvtq_f32_s32(vmaxq_s32(vminq_s32(v, vdupq_n_s32(255)), vdupq_n_s32(0)));
  vst1q_f32(out, vdivq_f32(vsubq_f32(vdivq_f32(f, k255), mean), std));
}

template <int Q>
void horizontalRow(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2, uint8_t* tail) {
  const uint8x16_t spread[4] = {vld1q_u8(kSpread[0]), vld1q_u8(kSpread[1]), vld1q_u8(kSpread[2]),
                                vld1q_u8(kSpread[3])};
  const uint8x16_t planes = vld1q_u8(kPlanes);
  int x = 0;
  for (; x + 4 <= h.simdEnd; x += 4) {
    const int32x4_t r0 = pixelSums<Q>(h, src, x, spread), r1 = pixelSums<Q>(h, src, x + 1, spread);
    const int32x4_t r2 = pixelSums<Q>(h, src, x + 2, spread), r3 = pixelSums<Q>(h, src, x + 3, spread);
    const uint8x16_t b = vqtbl1q_u8(vcombine_u8(clip8x8(r0, r1), clip8x8(r2, r3)), planes);
    const uint32x4_t w = vreinterpretq_u32_u8(b);
    vst1q_lane_u32(reinterpret_cast<uint32_t*>(d0 + x), w, 0);
    vst1q_lane_u32(reinterpret_cast<uint32_t*>(d1 + x), w, 1);
    vst1q_lane_u32(reinterpret_cast<uint32_t*>(d2 + x), w, 2);
  }
  // the last pixels: their windows read past the row, so from a zero-padded copy of its end
  const uint8_t* base = src;
  for (; x < h.S; x++) {
    if (x == h.simdEnd) {
      std::memcpy(tail, src + h.tailFrom, (size_t)h.inWidth * 3 - h.tailFrom);
      base = tail - h.tailFrom;
    }
    const uint8x8_t b = clip8x8(pixelSums<Q>(h, base, x, spread), vdupq_n_s32(0));
    d0[x] = vget_lane_u8(b, 0);
    d1[x] = vget_lane_u8(b, 1);
    d2[x] = vget_lane_u8(b, 2);
  }
}

}  // namespace

void horizontalNeon(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2, uint8_t* tail) {
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

void verticalNeon(const VerticalRow& v, int S, Normalise nm, float* out) {
  const float32x4_t k255 = vdupq_n_f32(255.0f), mean = vdupq_n_f32(nm.mean), std = vdupq_n_f32(nm.std);
  for (int x = 0;; x += 16) {
    if (x > S - 16) x = S - 16;
    int32x4_t a0 = vdupq_n_s32(kRoundHalf), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < v.n; j++) {
      const uint8x16_t px = vld1q_u8(v.rows[j] + x);
      const int32_t k = v.coeffs[j];
      const uint16x8_t lo = vmovl_u8(vget_low_u8(px)), hi = vmovl_high_u8(px);
      a0 = vmlaq_n_s32(a0, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(lo))), k);
      a1 = vmlaq_n_s32(a1, vreinterpretq_s32_u32(vmovl_high_u16(lo)), k);
      a2 = vmlaq_n_s32(a2, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(hi))), k);
      a3 = vmlaq_n_s32(a3, vreinterpretq_s32_u32(vmovl_high_u16(hi)), k);
    }
    storeNormalised(out + x, vshrq_n_s32(a0, kPrecisionBits), k255, mean, std);
    storeNormalised(out + x + 4, vshrq_n_s32(a1, kPrecisionBits), k255, mean, std);
    storeNormalised(out + x + 8, vshrq_n_s32(a2, kPrecisionBits), k255, mean, std);
    storeNormalised(out + x + 12, vshrq_n_s32(a3, kPrecisionBits), k255, mean, std);
    if (x == S - 16) break;
  }
}

}  // namespace pp
#endif  // PP_CPU_NEON
