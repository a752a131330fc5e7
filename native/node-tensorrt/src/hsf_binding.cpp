// N-API side of the HSF CUDA kernels (helper-4's src/hsf/, plain C API). Until those kernels are
// built in, every entry point reports that HSF on the GPU is unavailable and the service runs HSF on
// the CPU.
#include "common.h"
#include "hsf_device.h"

namespace ntrt {

bool hsfAvailable() {
#ifdef NTRT_HAVE_HSF
  return true;
#else
  return false;
#endif
}

bool runHsfOnDevice(const HsfDeviceInputs&, const HsfDeviceRequest&, void*, HsfHostResult*, std::string* error) {
  *error = "HSF CUDA kernels are not built into node-tensorrt";
  return false;
}

void registerHsf(Napi::Env env, Napi::Object exports) {}

}  // namespace ntrt
