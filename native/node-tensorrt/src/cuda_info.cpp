// CUDA device query. With the runtime linked statically this works on machines without a driver:
// cudaGetDeviceCount then returns an error code, which we report instead of throwing.
#include "common.h"

#ifdef NTRT_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace ntrt {

#ifdef NTRT_HAVE_CUDA
std::string cudaErrorText(int code) {
  auto err = static_cast<cudaError_t>(code);
  return std::string(cudaGetErrorName(err)) + " (" + std::to_string(code) + "): " + cudaGetErrorString(err);
}
#else
std::string cudaErrorText(int code) { return "CUDA error " + std::to_string(code) + " (built without CUDA)"; }
#endif

namespace {

Napi::Object failure(Napi::Env env, int code, const std::string& codeName, const std::string& message) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", false);
  out.Set("code", code);
  out.Set("codeName", codeName);
  out.Set("error", message);
  return out;
}

Napi::Value CudaDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifndef NTRT_HAVE_CUDA
  return failure(env, -1, "builtWithoutCuda",
                 "node-tensorrt was built without CUDA (nvcc was absent at build time): no GPU support");
#else
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return failure(env, static_cast<int>(err), cudaGetErrorName(err),
                   std::string("no usable CUDA device: ") + cudaGetErrorString(err));
  }
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); };
  Napi::Array devices = Napi::Array::New(env, count);
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    err = cudaGetDeviceProperties(&prop, i);
    if (err != cudaSuccess) {
      return failure(env, static_cast<int>(err), cudaGetErrorName(err),
                     "cudaGetDeviceProperties(" + std::to_string(i) + "): " + cudaGetErrorString(err));
    }
    Napi::Object d = Napi::Object::New(env);
    d.Set("index", i);
    d.Set("name", std::string(prop.name));
    d.Set("computeCapability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
    d.Set("totalMemoryBytes", static_cast<double>(prop.totalGlobalMem));
    d.Set("multiProcessors", prop.multiProcessorCount);
    d.Set("integrated", prop.integrated != 0);  // Jetson: GPU shares the system memory
    devices.Set(static_cast<uint32_t>(i), d);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", true);
  out.Set("driverVersion", version(driver));
  out.Set("runtimeVersion", version(runtime));
  out.Set("devices", devices);
  return out;
#endif
}

}  // namespace

void registerCudaInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaDevices", Napi::Function::New(env, CudaDevices, "cudaDevices"));
}

}  // namespace ntrt
