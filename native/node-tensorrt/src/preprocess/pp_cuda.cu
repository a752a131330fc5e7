// See pp_cuda.h. Two launches per batch: the horizontal pass into each frame's intermediate uint8
// image, then the vertical pass with the normalisation into the output tensor; one grid row per
// frame, each thread one element (all elements are independent: no synchronisation inside a pass).
#include "preprocess/pp_cuda.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

#include "preprocess/pp_kernels.cuh"

namespace pp {

struct DeviceScratch {
  void* staging = nullptr;  // pinned: descriptors, tap tables, frame bytes
  size_t stagingBytes = 0;
  void* device = nullptr;  // the same, copied to the device (discrete GPUs)
  size_t deviceBytes = 0;
  void* temp = nullptr;  // the intermediate images
  size_t tempBytes = 0;
  ~DeviceScratch() {
    if (staging) cudaFreeHost(staging);
    if (device) cudaFree(device);
    if (temp) cudaFree(temp);
  }
};

DeviceScratch* newDeviceScratch() { return new DeviceScratch(); }
void freeDeviceScratch(DeviceScratch* s) { delete s; }

namespace {

constexpr int kThreads = 256;
struct Norm {
  float mean[3], std[3];
};

__global__ void horizontalKernel(const FrameDesc* frames, const uint8_t* src, const int32_t* tables, uint8_t* temp,
                                 int S) {
  const FrameDesc f = frames[blockIdx.y];
  const int n = f.tempRows * S * 3;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    horizontalAt(f, src, tables, temp, S, i);
}

template <bool Half>
__global__ void verticalKernel(const FrameDesc* frames, const uint8_t* temp, const int32_t* tables, int S, Norm norm,
                               void* out) {
  const FrameDesc f = frames[blockIdx.y];
  const int n = 3 * S * S;
  const size_t base = (size_t)blockIdx.y * n;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const int p = i / (S * S);
    const float v = normalise(verticalAt(f, temp, tables, S, i), norm.mean[p], norm.std[p]);
    if (Half) {
      static_cast<__half*>(out)[base + i] = __float2half_rn(v);
    } else {
      static_cast<float*>(out)[base + i] = v;
    }
  }
}

bool ok(cudaError_t err, const char* what, std::string* error) {
  if (err == cudaSuccess) return true;
  *error = std::string("preprocess on the GPU: ") + what + ": " + cudaGetErrorName(err) + ": " +
           cudaGetErrorString(err);
  return false;
}

size_t align256(size_t n) { return (n + 255) & ~(size_t)255; }

/** Grows a device buffer to `want` bytes (contents not kept): allocated once, then reused. */
bool growDevice(void** p, size_t* have, size_t want, std::string* error) {
  if (want <= *have) return true;
  if (*p) cudaFree(*p);
  *p = nullptr;
  *have = 0;
  if (!ok(cudaMalloc(p, want), "cudaMalloc", error)) return false;
  *have = want;
  return true;
}

int blocksFor(size_t n) { return (int)std::min<size_t>((n + kThreads - 1) / kThreads, 65535); }

}  // namespace

bool currentDeviceIsIntegrated() {
  int dev = 0, integrated = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&integrated, cudaDevAttrIntegrated, dev) != cudaSuccess) return false;
  return integrated != 0;
}

bool runOnDevice(const std::vector<FrameInput>& frames, const BatchPlan& plan, DeviceScratch* s, void* stream,
                 bool half, void* dOut, std::string* error) {
  const int B = (int)plan.frames.size();
  if (B < 1 || B > 65535 || frames.size() != plan.frames.size()) {
    *error = "preprocess on the GPU: 1..65535 frames, as planned";
    return false;
  }
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  const size_t descBytes = align256(B * sizeof(FrameDesc));
  const size_t tableBytes = align256(plan.tables.size() * sizeof(int32_t));
  const size_t total = descBytes + tableBytes + plan.srcBytes;
  if (total > s->stagingBytes) {
    if (s->staging) cudaFreeHost(s->staging);
    s->staging = nullptr;
    s->stagingBytes = 0;
    if (!ok(cudaMallocHost(&s->staging, total), "cudaMallocHost", error)) return false;
    s->stagingBytes = total;
  }
  auto* host = static_cast<uint8_t*>(s->staging);
  std::memcpy(host, plan.frames.data(), B * sizeof(FrameDesc));
  std::memcpy(host + descBytes, plan.tables.data(), plan.tables.size() * sizeof(int32_t));
  packSources(frames, plan, host + descBytes + tableBytes);
  uint8_t* dev = nullptr;
  if (currentDeviceIsIntegrated()) {
    // shared memory: the GPU reads the pinned staging where it is, no copy
    if (!ok(cudaHostGetDevicePointer((void**)&dev, s->staging, 0), "cudaHostGetDevicePointer", error)) return false;
  } else {
    if (!growDevice(&s->device, &s->deviceBytes, total, error)) return false;
    dev = static_cast<uint8_t*>(s->device);
    if (!ok(cudaMemcpyAsync(dev, host, total, cudaMemcpyHostToDevice, st), "copy of the frames", error)) return false;
  }
  if (!growDevice(&s->temp, &s->tempBytes, plan.tempBytes, error)) return false;
  const auto* descs = reinterpret_cast<const FrameDesc*>(dev);
  const auto* tables = reinterpret_cast<const int32_t*>(dev + descBytes);
  const uint8_t* src = dev + descBytes + tableBytes;
  const int S = plan.size;
  size_t widest = 0;
  for (const auto& f : plan.frames) widest = std::max(widest, (size_t)f.tempRows * S * 3);
  horizontalKernel<<<dim3(blocksFor(widest), B), kThreads, 0, st>>>(descs, src, tables, static_cast<uint8_t*>(s->temp),
                                                                    S);
  Norm norm;
  for (int c = 0; c < 3; c++) {
    norm.mean[c] = plan.mean[c];
    norm.std[c] = plan.std[c];
  }
  const dim3 grid(blocksFor((size_t)3 * S * S), B);
  if (half) {
    verticalKernel<true><<<grid, kThreads, 0, st>>>(descs, static_cast<uint8_t*>(s->temp), tables, S, norm, dOut);
  } else {
    verticalKernel<false><<<grid, kThreads, 0, st>>>(descs, static_cast<uint8_t*>(s->temp), tables, S, norm, dOut);
  }
  return ok(cudaGetLastError(), "kernel launch", error);
}

}  // namespace pp
