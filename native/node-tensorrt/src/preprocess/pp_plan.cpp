// See pp_plan.h. The tap tables repeat bicubicAxis of src/preprocess/pil-resample.ts operation for
// operation in float64 (built with -ffp-contract=off: no fused multiply-add the TypeScript does not
// do), so the fixed-point coefficients are the same integers.
#include "preprocess/pp_plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pp {
namespace {

double bicubic(double x) {
  const double a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

std::string frameText(size_t i) { return "preprocess: frame " + std::to_string(i) + ": "; }

size_t frameBytes(const FrameInput& f) {
  return (size_t)(f.height - 1) * f.stride + (size_t)f.width * f.channels;
}

}  // namespace

int32_t appendBicubicTaps(int inSize, int outSize, std::vector<int32_t>* table) {
  const double scale = (double)inSize / outSize;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2 * filterscale;
  const int ksize = (int)std::ceil(support) * 2 + 1;
  const double inv = 1 / filterscale;
  const int32_t at = (int32_t)table->size();
  table->resize(table->size() + 1 + 2 * (size_t)outSize + (size_t)outSize * ksize, 0);
  int32_t* t = table->data() + at;
  t[0] = ksize;
  std::vector<double> w(ksize);
  for (int xx = 0; xx < outSize; xx++) {
    const double center = (xx + 0.5) * scale;
    const int xmin = std::max((int)(center - support + 0.5), 0);  // C's cast truncates toward zero
    const int xmax = std::min((int)(center + support + 0.5), inSize) - xmin;
    double ww = 0;
    for (int x = 0; x < xmax; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) * inv);
      ww += w[x];
    }
    int32_t* coeffs = t + 1 + 2 * outSize + (size_t)xx * ksize;
    for (int x = 0; x < xmax; x++) {
      const double k = ww != 0 ? w[x] / ww : w[x];
      const double scaled = k * (1 << kPrecisionBits);
      coeffs[x] = k < 0 ? (int32_t)(-0.5 + scaled) : (int32_t)(0.5 + scaled);
    }
    t[1 + xx] = xmin;
    t[1 + outSize + xx] = xmax;
  }
  return at;
}

bool makePlan(const std::vector<FrameInput>& frames, int size, const double mean[3], const double std[3],
              BatchPlan* plan, std::string* error) {
  if (size < 1 || size > 8192) {
    *error = "preprocess: size must be an integer in 1..8192, got " + std::to_string(size);
    return false;
  }
  if (frames.empty()) {
    *error = "preprocess: no frames";
    return false;
  }
  for (int c = 0; c < 3; c++) {
    if (!std::isfinite(mean[c]) || !std::isfinite(std[c]) || std[c] == 0) {
      *error = "preprocess: mean[" + std::to_string(c) + "] must be finite and std[" + std::to_string(c) +
               "] finite and non-zero";
      return false;
    }
    plan->mean[c] = (float)mean[c];
    plan->std[c] = (float)std[c];
  }
  plan->size = size;
  plan->frames.clear();
  plan->tables.clear();
  plan->srcBytes = plan->tempBytes = 0;
  for (size_t i = 0; i < frames.size(); i++) {
    const FrameInput& in = frames[i];
    if (in.width < 1 || in.height < 1) {
      *error = frameText(i) + "size must be positive, got " + std::to_string(in.width) + "x" + std::to_string(in.height);
      return false;
    }
    if (in.channels != 1 && in.channels != 3) {
      *error = frameText(i) + "must have 1 (grey) or 3 channels, got " + std::to_string(in.channels);
      return false;
    }
    if (in.stride < in.width * in.channels) {
      *error = frameText(i) + "stride " + std::to_string(in.stride) + " is shorter than a row of " +
               std::to_string(in.width * in.channels) + " bytes";
      return false;
    }
    if (!in.data || in.bytes < frameBytes(in)) {
      *error = frameText(i) + std::to_string(in.bytes) + " bytes cannot hold a " + std::to_string(in.width) + "x" +
               std::to_string(in.height) + "x" + std::to_string(in.channels) + " image (stride " +
               std::to_string(in.stride) + ")";
      return false;
    }
    if (in.rotate != 0 && in.rotate != 90 && in.rotate != 180 && in.rotate != 270) {
      *error = frameText(i) + "rotate must be 0, 90, 180 or 270, got " + std::to_string(in.rotate);
      return false;
    }
    const bool quarter = in.rotate == 90 || in.rotate == 270;
    const int upW = quarter ? in.height : in.width, upH = quarter ? in.width : in.height;
    FrameDesc f{};
    f.width = in.width;
    f.height = in.height;
    f.stride = in.stride;
    f.channels = in.channels;
    f.bgr = in.bgr ? 1 : 0;
    f.rotate = in.rotate;
    f.roiX = in.hasRoi ? in.roiX : 0;
    f.roiY = in.hasRoi ? in.roiY : 0;
    f.roiW = in.hasRoi ? in.roiW : upW;
    f.roiH = in.hasRoi ? in.roiH : upH;
    if (f.roiX < 0 || f.roiY < 0 || f.roiW < 1 || f.roiH < 1 || f.roiX + f.roiW > upW || f.roiY + f.roiH > upH) {
      *error = frameText(i) + "ROI " + std::to_string(f.roiX) + "," + std::to_string(f.roiY) + " " +
               std::to_string(f.roiW) + "x" + std::to_string(f.roiH) + " lies outside the " + std::to_string(upW) +
               "x" + std::to_string(upH) + " upright frame";
      return false;
    }
    f.hTaps = appendBicubicTaps(f.roiW, size, &plan->tables);
    f.vTaps = appendBicubicTaps(f.roiH, size, &plan->tables);
    const int32_t* v = plan->tables.data() + f.vTaps;
    f.firstRow = v[1];
    f.tempRows = v[1 + size - 1] + v[1 + 2 * size - 1] - f.firstRow;
    f.src = plan->srcBytes;
    f.temp = plan->tempBytes;
    plan->srcBytes += frameBytes(in);
    plan->tempBytes += (size_t)f.tempRows * size * 3;
    plan->frames.push_back(f);
  }
  return true;
}

void packSources(const std::vector<FrameInput>& frames, const BatchPlan& plan, uint8_t* dst) {
  for (size_t i = 0; i < frames.size(); i++) std::memcpy(dst + plan.frames[i].src, frames[i].data, frameBytes(frames[i]));
}

}  // namespace pp
