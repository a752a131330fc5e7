// The portable row kernels (pp_cpu_rows.h): plain C++ over PIL's taps, in PIL's order of summation.
// The vertical loops run over contiguous columns, so compilers vectorise them for any target.
#include "preprocess/pp_cpu_rows.h"
#include "preprocess/pp_kernels.cuh"

namespace pp {

void horizontalPortable(const HorizontalTaps& h, const uint8_t* src, uint8_t* d0, uint8_t* d1, uint8_t* d2, int x0,
                        int x1) {
  const int stride = h.quads * 4;
  for (int x = x0; x < x1; x++) {
    const uint8_t* p = src + h.offset[x];
    const int32_t* k = h.coeffs + (size_t)x * stride;
    const int n = h.count[x];
    int32_t s0 = kRoundHalf, s1 = kRoundHalf, s2 = kRoundHalf;
    for (int j = 0; j < n; j++, p += 3) {
      s0 += p[0] * k[j];
      s1 += p[1] * k[j];
      s2 += p[2] * k[j];
    }
    d0[x] = (uint8_t)clip8(s0);
    d1[x] = (uint8_t)clip8(s1);
    d2[x] = (uint8_t)clip8(s2);
  }
}

void verticalPortable(const VerticalRow& v, int S, Normalise nm, int32_t* acc, float* out) {
  for (int x = 0; x < S; x++) acc[x] = kRoundHalf;
  for (int j = 0; j < v.n; j++) {
    const uint8_t* r = v.rows[j];
    const int32_t k = v.coeffs[j];
    for (int x = 0; x < S; x++) acc[x] += r[x] * k;
  }
  for (int x = 0; x < S; x++) out[x] = normalise(clip8(acc[x]), nm.mean, nm.std);
}

}  // namespace pp
