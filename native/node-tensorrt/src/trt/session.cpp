// TensorRT 10 engine sessions, the N-API side: openEngine(), the TensorRtEngine object (io, infer,
// close) and tensorRtLog(). The blocking work runs in the open and infer workers on the libuv thread
// pool, so the event loop never waits on the GPU. Built only with CUDA and TensorRT headers
// (TENSORRT_INCLUDE_DIR); otherwise session_stub.cpp. Only the headers' inline wrappers are used; the
// library itself is dlopen'ed (trt_library.cpp).
#include "trt/session.h"

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common.h"
#include "hsf_device.h"
#include "pp_args.h"
#include "trt/infer_worker.h"
#include "trt/logger.h"
#include "trt/open_worker.h"

namespace ntrt {
namespace trt {
namespace {

Napi::FunctionReference* gEngineConstructor = nullptr;

/** { frames, size, mean, std }: camera frames for the preprocessing kernels, as input [B,3,S,S]. */
HostInput frameInput(Napi::Env env, const std::string& name, Napi::Object o) {
  const std::string where = "input '" + name + "'";
  HostInput in;
  in.name = name;
  in.type = HostType::F32;
  in.data = nullptr;
  in.frames = readFrames(env, o.Get("frames"), where, &in.keepFrames);
  in.frameSize = frameInt(env, o, "size", 0, where + ": ");
  readTriple(env, o, "mean", where, in.mean);
  readTriple(env, o, "std", where, in.std);
  if (in.frames.empty() || in.frameSize < 1) {
    throw Napi::TypeError::New(env, where + ": frames need at least one frame and a positive size");
  }
  const int64_t B = static_cast<int64_t>(in.frames.size()), S = in.frameSize;
  in.shape.nbDims = 4;
  in.shape.d[0] = B;
  in.shape.d[1] = 3;
  in.shape.d[2] = S;
  in.shape.d[3] = S;
  in.elements = static_cast<size_t>(B * 3 * S * S);
  return in;
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "TensorRtEngine",
                       {InstanceMethod("io", &EngineWrap::Io), InstanceMethod("infer", &EngineWrap::Infer),
                        InstanceMethod("close", &EngineWrap::Close),
                        InstanceAccessor("contexts", &EngineWrap::Contexts, nullptr),
                        InstanceAccessor("deviceMemoryBytes", &EngineWrap::DeviceMemory, nullptr)});
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "TensorRtEngine objects come from openEngine()");
    }
    state_ = *info[0].As<Napi::External<std::shared_ptr<EngineState>>>().Data();
  }

 private:
  std::shared_ptr<EngineState> live(Napi::Env env) {
    if (!state_) throw Napi::Error::New(env, "this TensorRT engine is closed");
    return state_;
  }

  Napi::Value Io(const Napi::CallbackInfo& info) {
    auto state = live(info.Env());
    Napi::Env env = info.Env();
    Napi::Array arr = Napi::Array::New(env, state->tensors.size());
    uint32_t i = 0;
    for (const auto& t : state->tensors) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", t.name);
      o.Set("mode", t.input ? "input" : "output");
      o.Set("dtype", dtypeName(t.dtype));
      o.Set("shape", dimsArray(env, t.shape));
      if (t.input) {
        o.Set("min", dimsArray(env, t.min));
        o.Set("opt", dimsArray(env, t.opt));
        o.Set("max", dimsArray(env, t.max));
      }
      arr.Set(i++, o);
    }
    return arr;
  }

  Napi::Value Infer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto state = live(env);
    if (info.Length() < 1 || !info[0].IsObject()) {
      throw Napi::TypeError::New(env, "infer(inputs, options?): inputs is { name: { data, shape } }");
    }
    Napi::Object map = info[0].As<Napi::Object>();
    std::vector<HostInput> inputs;
    Napi::Array names = map.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); ++i) {
      const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value v = map.Get(name);
      if (!v.IsObject()) throw Napi::TypeError::New(env, "input '" + name + "': expected { data, shape }");
      Napi::Object o = v.As<Napi::Object>();
      if (o.Has("frames")) {
        inputs.push_back(frameInput(env, name, o));
        continue;
      }
      Napi::Value data = o.Get("data");
      Napi::Value shape = o.Get("shape");
      if (!data.IsTypedArray() || !shape.IsArray()) {
        throw Napi::TypeError::New(env, "input '" + name + "': expected { data: TypedArray, shape: number[] }");
      }
      auto ta = data.As<Napi::TypedArray>();
      HostInput in;
      in.name = name;
      switch (ta.TypedArrayType()) {
        case napi_float32_array: in.type = HostType::F32; break;
        case napi_uint16_array: in.type = HostType::U16; break;
        case napi_bigint64_array: in.type = HostType::I64; break;
        case napi_int32_array: in.type = HostType::I32; break;
        case napi_uint8_array: in.type = HostType::U8; break;
        default:
          throw Napi::TypeError::New(env, "input '" + name +
                                              "': use Float32Array, Uint16Array (float16), BigInt64Array, "
                                              "Int32Array or Uint8Array");
      }
      in.data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      in.elements = ta.ElementLength();
      auto dims = shape.As<Napi::Array>();
      if (dims.Length() > static_cast<uint32_t>(Dims::MAX_DIMS)) {
        throw Napi::RangeError::New(env, "input '" + name + "': too many dimensions");
      }
      in.shape.nbDims = static_cast<int32_t>(dims.Length());
      for (uint32_t d = 0; d < dims.Length(); ++d) {
        Napi::Value dv = dims.Get(d);
        if (!dv.IsNumber() || dv.As<Napi::Number>().DoubleValue() < 0) {
          throw Napi::TypeError::New(env, "input '" + name + "': shape must hold non-negative integers");
        }
        in.shape.d[d] = dv.As<Napi::Number>().Int64Value();
      }
      in.keep = Napi::Persistent(ta.As<Napi::Object>());
      inputs.push_back(std::move(in));
    }
    std::unordered_set<std::string> deviceOnly;
    bool runHsf = false;
    HsfDeviceRequest hsf;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object opts = info[1].As<Napi::Object>();
      Napi::Value keep = opts.Get("keepOnDevice");
      if (keep.IsArray()) {
        auto arr = keep.As<Napi::Array>();
        for (uint32_t i = 0; i < arr.Length(); ++i) deviceOnly.insert(arr.Get(i).ToString().Utf8Value());
      }
      Napi::Value h = opts.Get("hsf");
      if (h.IsObject()) {
        if (!hsfAvailable()) throw Napi::Error::New(env, "HSF CUDA kernels are not built into node-tensorrt");
        Napi::Object ho = h.As<Napi::Object>();
        runHsf = true;
        if (ho.Get("kClusters").IsNumber()) hsf.kClusters = ho.Get("kClusters").As<Napi::Number>().Int32Value();
        if (ho.Get("alpha").IsNumber()) hsf.alpha = ho.Get("alpha").As<Napi::Number>().DoubleValue();
      }
    }
    return inferAsync(env, state, std::move(inputs), std::move(deviceOnly), runHsf, hsf);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    state_.reset();  // runs in flight keep their own reference; memory goes when the last one ends
    return info.Env().Undefined();
  }

  Napi::Value Contexts(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env())->slots.size()));
  }
  Napi::Value DeviceMemory(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(live(info.Env())->engine->getDeviceMemorySizeV2()));
  }

  std::shared_ptr<EngineState> state_;
};

Napi::Value OpenEngine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "openEngine(path, { contexts?, plugins?, device? })");
  }
  int contexts = 1, device = 0;
  bool plugins = false;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Get("contexts").IsNumber()) contexts = o.Get("contexts").As<Napi::Number>().Int32Value();
    if (o.Get("device").IsNumber()) device = o.Get("device").As<Napi::Number>().Int32Value();
    if (o.Get("plugins").IsBoolean()) plugins = o.Get("plugins").As<Napi::Boolean>().Value();
  }
  if (contexts < 1 || contexts > 16) throw Napi::RangeError::New(env, "contexts must be 1..16");
  return openEngineAsync(env, info[0].As<Napi::String>().Utf8Value(), contexts, plugins, device);
}

Napi::Value TensorRtLog(const Napi::CallbackInfo& info) {
  auto lines = logger().drain();
  Napi::Array arr = Napi::Array::New(info.Env(), lines.size());
  for (uint32_t i = 0; i < lines.size(); ++i) arr.Set(i, lines[i]);
  return arr;
}

}  // namespace

Napi::Object wrapEngineState(Napi::Env env, std::shared_ptr<EngineState> state) {
  auto* holder = new std::shared_ptr<EngineState>(std::move(state));
  return gEngineConstructor->New({Napi::External<std::shared_ptr<EngineState>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<EngineState>* p) { delete p; })});
}

}  // namespace trt

void registerTrtSession(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = trt::EngineWrap::define(env);
  trt::gEngineConstructor = new Napi::FunctionReference(Napi::Persistent(ctor));
  exports.Set("openEngine", Napi::Function::New(env, trt::OpenEngine, "openEngine"));
  exports.Set("tensorRtLog", Napi::Function::New(env, trt::TensorRtLog, "tensorRtLog"));
}

}  // namespace ntrt
