// See pp_host.h. Built with -ffp-contract=off like the other host builds of kernel code.
#include "preprocess/pp_host.h"

#include <vector>

#include "half.h"
#include "preprocess/pp_kernels.cuh"

namespace pp {

void runHost(const BatchPlan& plan, const uint8_t* src, bool half, void* out) {
  const int S = plan.size;
  const size_t per = (size_t)3 * S * S;
  std::vector<uint8_t> temp(plan.tempBytes);
  for (size_t b = 0; b < plan.frames.size(); b++) {
    const FrameDesc& f = plan.frames[b];
    const int n = f.tempRows * S * 3;
    for (int i = 0; i < n; i++) horizontalAt(f, src, plan.tables.data(), temp.data(), S, i);
    for (int i = 0; i < (int)per; i++) {
      const int p = i / (S * S);
      const float v = normalise(verticalAt(f, temp.data(), plan.tables.data(), S, i), plan.mean[p], plan.std[p]);
      if (half) {
        static_cast<uint16_t*>(out)[b * per + i] = ntrt::floatToHalf(v);
      } else {
        static_cast<float*>(out)[b * per + i] = v;
      }
    }
  }
}

}  // namespace pp
