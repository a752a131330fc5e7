// openEngine() of an addon built without TensorRT headers (or without CUDA): rejects with the reason,
// so the service falls back to onnxruntime saying why. The real session is trt/session.cpp.
#include "common.h"

namespace ntrt {
namespace {
Napi::Value OpenEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto deferred = Napi::Promise::Deferred::New(env);
#ifdef NTRT_HAVE_CUDA
  const char* why =
      "node-tensorrt was built without TensorRT headers: rebuild with TENSORRT_INCLUDE_DIR set (see deploy/JETSON.md)";
#else
  const char* why = "node-tensorrt was built without CUDA (nvcc was absent at build time): no TensorRT support";
#endif
  deferred.Reject(Napi::Error::New(env, why).Value());
  return deferred.Promise();
}
}  // namespace

void registerTrtSession(Napi::Env env, Napi::Object exports) {
  exports.Set("openEngine", Napi::Function::New(env, OpenEngine, "openEngine"));
}
}  // namespace ntrt
