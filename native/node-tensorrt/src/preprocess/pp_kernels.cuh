// Camera-frame preprocessing, the per-element arithmetic: ROI and rotation by 90/180/270 (as an index
// mapping), PIL's antialiased bicubic resize (Resample.c: 22-bit fixed-point taps, horizontal pass
// then vertical pass, each rounding with +2^21 >> 22 and clipping to uint8) and the CLIP
// normalisation ((v / 255 - mean) / std in float32 steps). It is exactly what the CPU path
// (src/preprocess/pil-resample.ts, normalize.ts and the WebAssembly kernels) computes: integer sums
// that fit int32 and three correctly rounded float32 operations, so every build gives the same bits.
// Compiled by nvcc into the kernels of pp_cuda.cu and as plain C++ (no __CUDACC__) into pp_host.cpp:
// the host build is the CPU emulation the GPU is checked against.
#pragma once
#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define PP_DEVICE __device__ __forceinline__
#else
#define PP_DEVICE inline
#endif

namespace pp {

constexpr int kPrecisionBits = 22;
constexpr int32_t kRoundHalf = 1 << (kPrecisionBits - 1);

/** One frame of a batch as the kernels see it (offsets into the batch's shared buffers). */
struct FrameDesc {
  uint64_t src;   // byte offset of the frame's first pixel in the batch's source bytes
  uint64_t temp;  // byte offset of its intermediate image [tempRows, S, 3]
  int32_t width, height, stride, channels;  // the captured frame: 1 (grey) or 3 interleaved channels
  int32_t bgr;                              // 1: the 3 channels are B,G,R (OpenCV); 0: R,G,B
  int32_t rotate;                           // clockwise, applied before the ROI
  int32_t roiX, roiY, roiW, roiH;           // in upright (rotated) pixels
  int32_t hTaps, vTaps;  // int offsets of the horizontal (roiW -> S) and vertical (roiH -> S) tap tables
  int32_t firstRow, tempRows;  // the upright rows the vertical pass reads
};
// A tap table at offset o of the batch's int table: ksize, start[S], count[S], coeffs[S * ksize].

PP_DEVICE int32_t clip8(int32_t acc) {
  const int32_t v = acc >> kPrecisionBits;
  return v < 0 ? 0 : (v > 255 ? 255 : v);
}

/** Channel c of upright ROI pixel (x, y): rotation and ROI are only an index mapping. */
PP_DEVICE int32_t pixel(const FrameDesc& f, const uint8_t* src, int x, int y, int c) {
  const int ux = f.roiX + x, uy = f.roiY + y;
  int cx, cy;
  switch (f.rotate) {
    case 90:  // captured (cx, cy) -> upright (H-1-cy, cx)
      cx = uy;
      cy = f.height - 1 - ux;
      break;
    case 180:
      cx = f.width - 1 - ux;
      cy = f.height - 1 - uy;
      break;
    case 270:  // captured (cx, cy) -> upright (cy, W-1-cx)
      cx = f.width - 1 - uy;
      cy = ux;
      break;
    default:
      cx = ux;
      cy = uy;
  }
  return src[f.src + (size_t)cy * f.stride + (size_t)cx * f.channels + (f.channels == 1 ? 0 : c)];
}

/** Horizontal pass, element i of frame f's intermediate image: row i / (3S), column (i / 3) % S, channel i % 3. */
PP_DEVICE void horizontalAt(const FrameDesc& f, const uint8_t* src, const int32_t* tables, uint8_t* temp, int S,
                            int i) {
  const int c = i % 3, x = (i / 3) % S, r = i / (3 * S);
  const int32_t* t = tables + f.hTaps;
  const int32_t ksize = t[0], start = t[1 + x], n = t[1 + S + x];
  const int32_t* k = t + 1 + 2 * S + (size_t)x * ksize;
  int32_t acc = kRoundHalf;
  for (int j = 0; j < n; j++) acc += pixel(f, src, start + j, f.firstRow + r, c) * k[j];
  temp[f.temp + (size_t)i] = (uint8_t)clip8(acc);
}

/** Vertical pass, value i of frame f's [3,S,S] output before normalisation: plane i / S^2 (R,G,B). */
PP_DEVICE int32_t verticalAt(const FrameDesc& f, const uint8_t* temp, const int32_t* tables, int S, int i) {
  const int p = i / (S * S), y = (i / S) % S, x = i % S;
  const int c = f.bgr ? 2 - p : p;  // the source channel that lands in RGB plane p
  const int32_t* t = tables + f.vTaps;
  const int32_t ksize = t[0], start = t[1 + y], n = t[1 + S + y];
  const int32_t* k = t + 1 + 2 * S + (size_t)y * ksize;
  const uint8_t* col = temp + f.temp + (size_t)(start - f.firstRow) * S * 3 + (size_t)x * 3 + c;
  int32_t acc = kRoundHalf;
  for (int j = 0; j < n; j++) acc += (int32_t)col[(size_t)j * S * 3] * k[j];
  return clip8(acc);
}

#ifdef __CUDACC__
PP_DEVICE float fdiv(float a, float b) { return __fdiv_rn(a, b); }
PP_DEVICE float fsub(float a, float b) { return __fsub_rn(a, b); }
#else
PP_DEVICE float fdiv(float a, float b) { return a / b; }
PP_DEVICE float fsub(float a, float b) { return a - b; }
#endif

/** ToTensor then Normalize as torchvision does them, one correctly rounded float32 operation each. */
PP_DEVICE float normalise(int32_t v, float mean, float std) { return fdiv(fsub(fdiv((float)v, 255.0f), mean), std); }

}  // namespace pp
