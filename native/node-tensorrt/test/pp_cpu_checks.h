// Checks of the fast CPU preprocessing (src/preprocess/pp_cpu.h) for native_cpu_test.cpp: every
// kernel this machine runs (AVX2 or NEON, and the portable one), on 1 and 3 threads, against the
// per-element kernels' host build (pp_host.cpp) on random frames of odd sizes and strides, and
// against the TypeScript CPU path's tensors on the dumped cases. Each frame ends right before a
// PROT_NONE page, so a kernel that reads one byte past the image crashes the test instead of
// passing by luck.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../src/preprocess/pp_cpu.h"
#include "../src/preprocess/pp_host.h"
#include "../src/preprocess/pp_kernels.cuh"
#include "../src/preprocess/pp_plan.h"

namespace ppcheck {

/** `bytes` of memory whose end touches an inaccessible page. */
class GuardedBytes {
 public:
  explicit GuardedBytes(size_t bytes) : bytes_(bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    mapped_ = (bytes + page - 1) / page * page + page;
    base_ = static_cast<uint8_t*>(mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED) {
      std::perror("mmap");
      std::exit(2);
    }
    mprotect(base_ + mapped_ - page, page, PROT_NONE);
    data_ = base_ + mapped_ - page - bytes;
  }
  ~GuardedBytes() { munmap(base_, mapped_); }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;
  uint8_t* data() { return data_; }
  size_t size() const { return bytes_; }

 private:
  size_t bytes_, mapped_;
  uint8_t* base_;
  uint8_t* data_;
};

inline std::vector<pp::CpuKernel> kernelsHere() {
  std::vector<pp::CpuKernel> out;
  for (pp::CpuKernel k : {pp::CpuKernel::Avx2, pp::CpuKernel::Neon, pp::CpuKernel::Portable})
    if (pp::cpuKernelRuns(k)) out.push_back(k);
  return out;
}

inline size_t floatMismatches(const float* a, const float* b, size_t n) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) m += std::memcmp(a + i, b + i, sizeof(float)) != 0;
  return m;
}

/** Every kernel and thread count on `src` (3 channels, the whole image) against `want`. */
inline int compareKernels(const std::string& name, const uint8_t* src, int w, int h, size_t stride, bool bgr,
                          int size, const float mean[3], const float std[3], const std::vector<float>& want) {
  int failures = 0;
  std::vector<float> got(want.size());
  for (pp::CpuKernel k : kernelsHere()) {
    for (int threads : {1, 3}) {
      pp::CpuResizer r(w, h, size, mean, std, threads, k);
      size_t m = 0;
      for (int round = 0; round < 2; round++) {  // the second frame reuses the resizer's state
        std::fill(got.begin(), got.end(), -999.0f);
        r.run(src, stride, bgr, got.data());
        m += floatMismatches(got.data(), want.data(), want.size());
      }
      std::printf("%s preprocess-cpu %s: %s x%d, %dx%d stride %zu %s -> %d, differing values %zu of %zu\n",
                  m == 0 ? "PASS" : "FAIL", name.c_str(), pp::cpuKernelName(k), threads, w, h, stride,
                  bgr ? "BGR" : "RGB", size, m, 2 * want.size());
      failures += m != 0;
    }
  }
  return failures;
}

/** Random frames (mostly 0/255: hard edges overshoot and clip) against the host build of the kernels. */
inline int randomFrames() {
  struct Case {
    int w, h, size, pad;
  };
  const Case cases[] = {{1920, 1080, 518, 0}, {1920, 1080, 336, 0}, {1920, 1080, 224, 7}, {300, 200, 518, 0},
                        {1001, 667, 336, 5},  {640, 480, 224, 0},  {37, 23, 29, 1},     {2, 1, 16, 0},
                        {1, 1, 3, 0},         {1000, 3, 5, 2},     {3, 1000, 7, 0},     {518, 518, 518, 0},
                        {518, 300, 518, 3},   {300, 518, 518, 0},  {64, 64, 1, 0},      {17, 9, 33, 0},
                        {100, 100, 32, 0},    {100, 100, 16, 0},   {31, 31, 31, 0},     {1920, 7, 518, 0}};
  const float clipMean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
  const float clipStd[3] = {0.26862954f, 0.26130258f, 0.27577711f};
  const float oddMean[3] = {0.1f, 0.5f, 0.9f}, oddStd[3] = {0.3f, 0.2f, -0.7f};
  uint32_t s = 12345;
  int failures = 0, i = 0;
  for (const Case& c : cases) {
    const size_t stride = (size_t)c.w * 3 + c.pad;
    const size_t bytes = (size_t)(c.h - 1) * stride + (size_t)c.w * 3;
    GuardedBytes frame(bytes);
    for (size_t b = 0; b < bytes; b++) {
      s = s * 1103515245u + 12345u;
      frame.data()[b] = (s >> 31) ? (((s >> 30) & 1) ? 255 : 0) : (uint8_t)(s >> 24);
    }
    const bool bgr = i % 2 == 0;
    const float* mean = i % 3 == 2 ? oddMean : clipMean;
    const float* std = i % 3 == 2 ? oddStd : clipStd;
    i++;
    pp::FrameInput in;
    in.data = frame.data();
    in.bytes = bytes;
    in.width = c.w;
    in.height = c.h;
    in.stride = (int)stride;
    in.bgr = bgr;
    const double dm[3] = {mean[0], mean[1], mean[2]}, ds[3] = {std[0], std[1], std[2]};
    pp::BatchPlan plan;
    std::string error;
    if (!pp::makePlan({in}, c.size, dm, ds, &plan, &error)) {
      std::printf("FAIL preprocess-cpu random: %s\n", error.c_str());
      failures++;
      continue;
    }
    std::vector<uint8_t> packed(plan.srcBytes);
    pp::packSources({in}, plan, packed.data());
    std::vector<float> want((size_t)3 * c.size * c.size);
    pp::runHost(plan, packed.data(), false, want.data());
    const std::string name = "random_" + std::to_string(c.w) + "x" + std::to_string(c.h) + "_" + std::to_string(c.size);
    failures += compareKernels(name, frame.data(), c.w, c.h, stride, bgr, c.size, mean, std, want);
  }
  return failures;
}

/**
 * A dumped case (frame.npy, view.txt, want.npy as native_cpu_test reads them): the upright ROI is
 * cut out with the kernels' own index mapping (grey made 3 channels, as OpenCV's GRAY2BGR does),
 * then resized by every kernel and compared with the TypeScript CPU path's tensor.
 */
inline int dumpedCase(const std::string& name, const pp::FrameInput& in, int size, const double mean[3],
                      const double std[3], const float* want) {
  pp::BatchPlan plan;
  std::string error;
  if (!pp::makePlan({in}, size, mean, std, &plan, &error)) {
    std::printf("FAIL preprocess-cpu %s: %s\n", name.c_str(), error.c_str());
    return 1;
  }
  std::vector<uint8_t> packed(plan.srcBytes);
  pp::packSources({in}, plan, packed.data());
  const pp::FrameDesc& f = plan.frames[0];
  GuardedBytes upright((size_t)f.roiW * f.roiH * 3);
  for (int y = 0; y < f.roiH; y++)
    for (int x = 0; x < f.roiW; x++)
      for (int c = 0; c < 3; c++) upright.data()[((size_t)y * f.roiW + x) * 3 + c] = (uint8_t)pp::pixel(f, packed.data(), x, y, c);
  const float fm[3] = {(float)mean[0], (float)mean[1], (float)mean[2]};
  const float fs[3] = {(float)std[0], (float)std[1], (float)std[2]};
  const std::vector<float> w(want, want + (size_t)3 * size * size);
  return compareKernels(name, upright.data(), f.roiW, f.roiH, (size_t)f.roiW * 3, in.bgr, size, fm, fs, w);
}

}  // namespace ppcheck
