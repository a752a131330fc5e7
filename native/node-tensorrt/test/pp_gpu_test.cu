// The preprocessing CUDA kernels (src/preprocess/pp_cuda.cu) against their host build
// (pp_host.cpp, itself held to the CPU path bit for bit by the tests): the same float32 and float16
// bits for random frames of odd sizes, ROIs, rotations and grey frames in one batch and for 1080p
// frames to 518, then the time of batches of 1, 8 and 32 1080p frames (staging copy + both passes,
// CUDA events) against the host build on one CPU thread. No Node needed; run by scripts/gpu-check.sh.
//   pp_gpu_test            one "PASS|FAIL preprocess ..." line per check, "LATENCY ..." lines
// Exit: 0 all identical, 1 a difference, 3 no CUDA device.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../src/half.h"
#include "../src/preprocess/pp_cuda.h"
#include "../src/preprocess/pp_host.h"

namespace {

const double kMean[3] = {0.48145466, 0.4578275, 0.40821073};  // CLIP (src/preprocess/normalize.ts)
const double kStd[3] = {0.26862954, 0.26130258, 0.27577711};

struct Rng {
  uint32_t s;
  uint32_t next() { return s = s * 1103515245u + 12345u; }
  int below(int n) { return (int)((next() >> 8) % (uint32_t)n); }
};

struct Owned {
  std::vector<uint8_t> bytes;
  pp::FrameInput in;
};

Owned frame(Rng& r, int w, int h, int channels, int rotate, bool roi) {
  Owned f;
  f.bytes.resize((size_t)w * h * channels);
  for (size_t i = 0; i < f.bytes.size(); i++) f.bytes[i] = (uint8_t)((r.next() >> 24) / 4 + (i * 7) % 192);
  f.in.width = w;
  f.in.height = h;
  f.in.channels = channels;
  f.in.stride = w * channels;
  f.in.rotate = rotate;
  const int upW = rotate % 180 ? h : w, upH = rotate % 180 ? w : h;
  if (roi) {
    f.in.hasRoi = true;
    f.in.roiW = 1 + r.below(upW);
    f.in.roiH = 1 + r.below(upH);
    f.in.roiX = r.below(upW - f.in.roiW + 1);
    f.in.roiY = r.below(upH - f.in.roiH + 1);
  }
  return f;
}

std::vector<pp::FrameInput> inputs(std::vector<Owned>& frames) {
  std::vector<pp::FrameInput> v;
  for (auto& f : frames) {
    f.in.data = f.bytes.data();
    f.in.bytes = f.bytes.size();
    v.push_back(f.in);
  }
  return v;
}

bool check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::printf("FAIL preprocess cuda: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

/** Host build and kernels on the same batch; prints one line; false on any differing bit. */
bool compare(const char* name, std::vector<Owned>& frames, int S, bool half, pp::DeviceScratch* scratch,
             cudaStream_t stream) {
  const std::vector<pp::FrameInput> in = inputs(frames);
  pp::BatchPlan plan;
  std::string error;
  if (!pp::makePlan(in, S, kMean, kStd, &plan, &error)) {
    std::printf("FAIL preprocess %s: %s\n", name, error.c_str());
    return false;
  }
  const size_t n = in.size() * 3 * (size_t)S * S, bytes = n * (half ? 2 : 4);
  std::vector<uint8_t> src(plan.srcBytes), want(bytes), got(bytes);
  pp::packSources(in, plan, src.data());
  pp::runHost(plan, src.data(), half, want.data());
  void* dOut = nullptr;
  if (!check(cudaMalloc(&dOut, bytes), "cudaMalloc")) return false;
  bool ok = pp::runOnDevice(in, plan, scratch, stream, half, dOut, &error);
  if (!ok) std::printf("FAIL preprocess %s: %s\n", name, error.c_str());
  ok = ok && check(cudaMemcpyAsync(got.data(), dOut, bytes, cudaMemcpyDeviceToHost, stream), "copy back") &&
       check(cudaStreamSynchronize(stream), "kernels");
  cudaFree(dOut);
  if (!ok) return false;
  const size_t width = half ? 2 : 4;
  size_t differing = 0;
  for (size_t i = 0; i < n; i++) differing += std::memcmp(&got[i * width], &want[i * width], width) != 0;
  std::printf("%s preprocess %s: %zu frames -> %d, %s, differing values %zu of %zu\n", differing ? "FAIL" : "PASS",
              name, in.size(), S, half ? "float16" : "float32", differing, n);
  return differing == 0;
}

/** ms per batch of B 1080p BGR frames -> S on the GPU (CUDA events, median of 7 after 2 warm-ups). */
double gpuBatchMs(std::vector<Owned>& frames, int S, pp::DeviceScratch* scratch, cudaStream_t stream, void* dOut) {
  const std::vector<pp::FrameInput> in = inputs(frames);
  pp::BatchPlan plan;
  std::string error;
  if (!pp::makePlan(in, S, kMean, kStd, &plan, &error)) return -1;
  std::vector<float> times;
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (int rep = 0; rep < 9; rep++) {
    cudaEventRecord(e0, stream);
    if (!pp::runOnDevice(in, plan, scratch, stream, false, dOut, &error)) return -1;
    cudaEventRecord(e1, stream);
    if (cudaEventSynchronize(e1) != cudaSuccess) return -1;
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    if (rep >= 2) times.push_back(ms);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "no CUDA device: this test needs a GPU\n");
    return 3;
  }
  cudaStream_t stream;
  if (!check(cudaStreamCreate(&stream), "stream")) return 1;
  pp::DeviceScratch* scratch = pp::newDeviceScratch();
  Rng r{2024};
  int failures = 0;

  // odd sizes, every rotation, ROIs, grey frames, all in one batch (frames of different sizes)
  std::vector<Owned> mixed;
  for (int i = 0; i < 24; i++)
    mixed.push_back(frame(r, 1 + r.below(257), 1 + r.below(181), i % 5 == 4 ? 1 : 3, (i % 4) * 90, i % 3 != 0));
  for (int S : {61, 224}) {
    failures += !compare(S == 61 ? "random_odd_61" : "random_odd_224", mixed, S, false, scratch, stream);
  }
  failures += !compare("random_odd_61_half", mixed, 61, true, scratch, stream);
  std::vector<Owned> hd;
  for (int rot : {0, 90}) hd.push_back(frame(r, 1920, 1080, 3, rot, rot == 90));
  failures += !compare("1080p_518", hd, 518, false, scratch, stream);
  failures += !compare("1080p_336_half", hd, 336, true, scratch, stream);

  // latency: batches of 1080p frames -> 518 on the GPU, and one frame through the host build
  std::vector<Owned> batch;
  for (int i = 0; i < 32; i++) batch.push_back(frame(r, 1920, 1080, 3, 0, false));
  void* dOut = nullptr;
  if (!check(cudaMalloc(&dOut, (size_t)32 * 3 * 518 * 518 * 4), "cudaMalloc")) return 1;
  for (int b : {1, 8, 32}) {
    std::vector<Owned> part(batch.begin(), batch.begin() + b);
    const double ms = gpuBatchMs(part, 518, scratch, stream, dOut);
    if (ms < 0) {
      std::printf("FAIL preprocess latency batch %d\n", b);
      failures++;
      continue;
    }
    std::printf("LATENCY preprocess gpu 1080p->518 batch %d: %.3f ms per batch, %.3f ms per frame\n", b, ms, ms / b);
  }
  {
    std::vector<Owned> one(batch.begin(), batch.begin() + 1);
    const std::vector<pp::FrameInput> in = inputs(one);
    pp::BatchPlan plan;
    std::string error;
    pp::makePlan(in, 518, kMean, kStd, &plan, &error);
    std::vector<uint8_t> src(plan.srcBytes);
    std::vector<float> out((size_t)3 * 518 * 518);
    pp::packSources(in, plan, src.data());
    const auto t0 = std::chrono::steady_clock::now();
    pp::runHost(plan, src.data(), false, out.data());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("LATENCY preprocess host-build 1080p->518 batch 1: %.3f ms per frame (one CPU thread, emulation)\n", ms);
  }
  cudaFree(dOut);
  pp::freeDeviceScratch(scratch);
  std::printf("%s: %d preprocess checks failed\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
