// Device and pinned host buffers of an execution context: grown to the largest size seen, then
// reused, so the steady path allocates nothing.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

namespace ntrt::trt {

struct Buffer {
  void* device = nullptr;
  size_t deviceBytes = 0;
  void* host = nullptr;  // pinned
  size_t hostBytes = 0;
};

/** True on cudaSuccess; else *error = "what: <CUDA error>". */
bool cudaOk(cudaError_t err, const std::string& what, std::string* error);
/** Grows b.device to at least `bytes` (contents are not kept). */
bool ensureDevice(Buffer& b, size_t bytes, std::string* error);
/** Grows b.host (pinned) to at least `bytes` (contents are not kept). */
bool ensureHost(Buffer& b, size_t bytes, std::string* error);

}  // namespace ntrt::trt
