// See buffers.h.
#include "trt/buffers.h"

#include "common.h"

namespace ntrt::trt {

bool cudaOk(cudaError_t err, const std::string& what, std::string* error) {
  if (err == cudaSuccess) return true;
  *error = what + ": " + cudaErrorText(static_cast<int>(err));
  return false;
}

bool ensureDevice(Buffer& b, size_t bytes, std::string* error) {
  if (bytes <= b.deviceBytes) return true;
  if (b.device) cudaFree(b.device);
  b.device = nullptr;
  b.deviceBytes = 0;
  if (!cudaOk(cudaMalloc(&b.device, bytes), "cudaMalloc(" + std::to_string(bytes) + ")", error)) return false;
  b.deviceBytes = bytes;
  return true;
}

bool ensureHost(Buffer& b, size_t bytes, std::string* error) {
  if (bytes <= b.hostBytes) return true;
  if (b.host) cudaFreeHost(b.host);
  b.host = nullptr;
  b.hostBytes = 0;
  if (!cudaOk(cudaMallocHost(&b.host, bytes), "cudaMallocHost(" + std::to_string(bytes) + ")", error)) return false;
  b.hostBytes = bytes;
  return true;
}

}  // namespace ntrt::trt
