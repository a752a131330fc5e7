// Module entry: build facts plus the functions each part registers. Nothing here touches CUDA or
// TensorRT, so require() succeeds on any machine.
#include "common.h"
#include "half.h"

#ifdef NTRT_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#ifdef NTRT_HAVE_TENSORRT
#include <NvInferVersion.h>
#endif

namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("napiVersion", NAPI_VERSION);
#ifdef NTRT_HAVE_CUDA
  out.Set("cuda", true);
  out.Set("cudaArchs", NTRT_CUDA_ARCHS);
  out.Set("cudaToolkit", std::to_string(CUDART_VERSION / 1000) + "." + std::to_string((CUDART_VERSION % 1000) / 10));
#else
  out.Set("cuda", false);
  out.Set("cudaArchs", "");
  out.Set("cudaToolkit", env.Null());
#endif
#ifdef NTRT_HAVE_TENSORRT
  out.Set("tensorrtHeaders", std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." +
                                 std::to_string(NV_TENSORRT_PATCH));
#else
  out.Set("tensorrtHeaders", env.Null());
#endif
#ifdef NTRT_HAVE_HSF
  out.Set("hsf", true);
#else
  out.Set("hsf", false);
#endif
  return out;
}

// The FP16 boundary conversions, exported so that they can be tested without a GPU and reused by
// backends that exchange float16 tensors.
Napi::Value Float32ToFloat16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "float32ToFloat16: expected a Float32Array");
  }
  auto in = info[0].As<Napi::Float32Array>();
  auto out = Napi::Uint16Array::New(env, in.ElementLength());
  for (size_t i = 0; i < in.ElementLength(); ++i) out[i] = ntrt::floatToHalf(in[i]);
  return out;
}

Napi::Value Float16ToFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
    throw Napi::TypeError::New(env, "float16ToFloat32: expected a Uint16Array of float16 bits");
  }
  auto in = info[0].As<Napi::Uint16Array>();
  auto out = Napi::Float32Array::New(env, in.ElementLength());
  for (size_t i = 0; i < in.ElementLength(); ++i) out[i] = ntrt::halfToFloat(in[i]);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
  exports.Set("float32ToFloat16", Napi::Function::New(env, Float32ToFloat16, "float32ToFloat16"));
  exports.Set("float16ToFloat32", Napi::Function::New(env, Float16ToFloat32, "float16ToFloat32"));
  ntrt::registerCudaInfo(env, exports);
  ntrt::registerTrtLibrary(env, exports);
  ntrt::registerTrtSession(env, exports);
  ntrt::registerHsf(env, exports);
  ntrt::registerHsfCpu(env, exports);
  ntrt::registerPreprocess(env, exports);
  ntrt::registerPreprocessCpu(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(node_tensorrt, Init)
