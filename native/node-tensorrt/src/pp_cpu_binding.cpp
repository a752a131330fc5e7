// N-API side of the fast CPU preprocessing (src/preprocess/pp_cpu.h), in every variant of the addon:
//   exports.preprocessCpu = {
//     kernel: the best kernel this CPU runs ("avx2", "neon" or "portable"); kernels: all it runs;
//     Resizer: new Resizer({ width, height, size, mean, std, threads?, kernel? }) for one frame
//       geometry (the upright ROI, 3 channels):
//       run(src: Uint8Array, offset, stride, bgr, out: Float32Array, outOffset): resizes and
//         normalises on the calling thread (and threads - 1 kept helpers), writing float32 [3,S,S];
//       close(): stops the helpers; the object is unusable afterwards }.
// Every bad argument is a TypeError or RangeError that names it.
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "common.h"
#include "preprocess/pp_cpu.h"

namespace ntrt {
namespace {

const std::string kWhere = "preprocessCpu.Resizer: ";

int intField(Napi::Env env, Napi::Object o, const char* name, int fallback, int min, int max) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) {
    if (fallback >= min) return fallback;
    throw Napi::TypeError::New(env, kWhere + name + " is required");
  }
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1.0;
  if (!v.IsNumber() || d != (double)(int64_t)d || d < min || d > max) {
    throw Napi::RangeError::New(env, kWhere + name + " must be an integer in " + std::to_string(min) + ".." +
                                         std::to_string(max));
  }
  return (int)d;
}

void floatTriple(Napi::Env env, Napi::Object o, const char* name, bool nonZero, float out[3]) {
  Napi::Value v = o.Get(name);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) {
    throw Napi::TypeError::New(env, kWhere + name + " must be an array of 3 numbers (RGB)");
  }
  for (uint32_t c = 0; c < 3; c++) {
    Napi::Value e = v.As<Napi::Array>().Get(c);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || (nonZero && d == 0)) {
      throw Napi::RangeError::New(env, kWhere + name + "[" + std::to_string(c) + "] must be a finite" +
                                           (nonZero ? " non-zero" : "") + " number");
    }
    out[c] = (float)d;  // float32, as torchvision's Normalize holds them
  }
}

size_t index(Napi::Env env, Napi::Value v, const char* name) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1.0;
  if (!v.IsNumber() || d < 0 || d != (double)(int64_t)d || d > 9007199254740991.0) {
    throw Napi::RangeError::New(env, std::string("preprocessCpu.run: ") + name + " must be a non-negative integer");
  }
  return (size_t)d;
}

class ResizerWrap : public Napi::ObjectWrap<ResizerWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Resizer",
                       {InstanceMethod("run", &ResizerWrap::Run), InstanceMethod("close", &ResizerWrap::Close),
                        InstanceAccessor("kernel", &ResizerWrap::Kernel, nullptr),
                        InstanceAccessor("threads", &ResizerWrap::Threads, nullptr)});
  }

  explicit ResizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ResizerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      throw Napi::TypeError::New(env, kWhere + "new Resizer({ width, height, size, mean, std, threads?, kernel? })");
    }
    Napi::Object o = info[0].As<Napi::Object>();
    const int width = intField(env, o, "width", 0, 1, 1 << 20);
    const int height = intField(env, o, "height", 0, 1, 1 << 20);
    const int size = intField(env, o, "size", 0, 1, 8192);
    const int threads = intField(env, o, "threads", 1, 1, 64);
    float mean[3], std[3];
    floatTriple(env, o, "mean", false, mean);
    floatTriple(env, o, "std", true, std);
    pp::CpuKernel kernel = pp::bestCpuKernel();
    Napi::Value k = o.Get("kernel");
    if (!k.IsUndefined()) {
      if (!k.IsString() || !pp::parseCpuKernel(k.As<Napi::String>().Utf8Value(), &kernel)) {
        throw Napi::TypeError::New(env, kWhere + "kernel must be \"avx2\", \"neon\" or \"portable\"");
      }
    }
    try {
      resizer_ = std::make_unique<pp::CpuResizer>(width, height, size, mean, std, threads, kernel);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }

 private:
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!resizer_) throw Napi::Error::New(env, "preprocessCpu.run: this resizer is closed");
    if (info.Length() < 6 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[3].IsBoolean() ||
        !info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env,
                                 "preprocessCpu.run(src: Uint8Array, offset, stride, bgr: boolean, out: Float32Array, "
                                 "outOffset)");
    }
    auto src = info[0].As<Napi::Uint8Array>();
    const size_t offset = index(env, info[1], "offset"), stride = index(env, info[2], "stride");
    auto out = info[4].As<Napi::Float32Array>();
    const size_t outOffset = index(env, info[5], "outOffset");
    const pp::CpuResizer& r = *resizer_;
    const size_t rowBytes = (size_t)r.inWidth() * 3;
    if (stride < rowBytes) {
      throw Napi::RangeError::New(env, "preprocessCpu.run: stride " + std::to_string(stride) +
                                           " is shorter than a row of " + std::to_string(rowBytes) + " bytes");
    }
    const size_t need = offset + (size_t)(r.inHeight() - 1) * stride + rowBytes;
    if (need > src.ElementLength()) {
      throw Napi::RangeError::New(env, "preprocessCpu.run: " + std::to_string(src.ElementLength()) +
                                           " bytes cannot hold a " + std::to_string(r.inWidth()) + "x" +
                                           std::to_string(r.inHeight()) + "x3 image at offset " +
                                           std::to_string(offset) + " (stride " + std::to_string(stride) + ")");
    }
    const size_t floats = (size_t)3 * r.size() * r.size();
    if (outOffset + floats > out.ElementLength()) {
      throw Napi::RangeError::New(env, "preprocessCpu.run: output of " + std::to_string(out.ElementLength()) +
                                           " floats cannot take an image of " + std::to_string(floats) +
                                           " at offset " + std::to_string(outOffset));
    }
    resizer_->run(src.Data() + offset, stride, info[3].As<Napi::Boolean>().Value(), out.Data() + outOffset);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    resizer_.reset();
    return info.Env().Undefined();
  }

  Napi::Value Kernel(const Napi::CallbackInfo& info) {
    return resizer_ ? Napi::String::New(info.Env(), pp::cpuKernelName(resizer_->kernel())) : info.Env().Null();
  }

  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return resizer_ ? Napi::Number::New(info.Env(), resizer_->threads()) : info.Env().Null();
  }

  std::unique_ptr<pp::CpuResizer> resizer_;
};

}  // namespace

void registerPreprocessCpu(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", pp::cpuKernelName(pp::bestCpuKernel()));
  Napi::Array kernels = Napi::Array::New(env);
  uint32_t i = 0;
  for (pp::CpuKernel k : {pp::CpuKernel::Avx2, pp::CpuKernel::Neon, pp::CpuKernel::Portable}) {
    if (pp::cpuKernelRuns(k)) kernels.Set(i++, pp::cpuKernelName(k));
  }
  o.Set("kernels", kernels);
  o.Set("Resizer", ResizerWrap::define(env));
  exports.Set("preprocessCpu", o);
}

}  // namespace ntrt
