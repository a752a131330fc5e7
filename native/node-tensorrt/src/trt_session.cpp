// TensorRT 10 engine sessions: deserialise an engine, list its IO tensors, run enqueueV3 on a CUDA
// stream. All blocking work (file read, deserialisation, copies, stream synchronisation) runs in
// napi async work on the libuv thread pool, so the event loop never waits on the GPU.
//
// Built only with CUDA and TensorRT headers (TENSORRT_INCLUDE_DIR); otherwise openEngine rejects
// with the reason. Only the headers' inline wrappers are used; the library itself is dlopen'ed.
#include "common.h"

#ifndef NTRT_HAVE_TENSORRT

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

#else  // NTRT_HAVE_TENSORRT

#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "half.h"
#include "hsf_device.h"
#include "trt_library.h"

namespace ntrt {
namespace {

using nvinfer1::DataType;
using nvinfer1::Dims;

// ---------------------------------------------------------------------------------------------------
// Logger: errors of the calling thread are collected so that a failed call can report them; the last
// warnings are kept for tensorRtLog().

class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override {
    if (severity <= Severity::kERROR) threadErrors().emplace_back(msg);
    if (severity <= Severity::kWARNING) {
      std::lock_guard<std::mutex> lock(mutex_);
      recent_.emplace_back(std::string(severity <= Severity::kERROR ? "error: " : "warning: ") + msg);
      if (recent_.size() > 100) recent_.pop_front();
    }
  }
  static std::vector<std::string>& threadErrors() {
    thread_local std::vector<std::string> errors;
    return errors;
  }
  std::vector<std::string> drain() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out(recent_.begin(), recent_.end());
    recent_.clear();
    return out;
  }

 private:
  std::mutex mutex_;
  std::deque<std::string> recent_;
};

Logger& logger() {
  static Logger* instance = new Logger();  // never destroyed: TensorRT may log during exit
  return *instance;
}

/** "what: <TensorRT errors logged since the scope began>" */
class ErrorScope {
 public:
  ErrorScope() { Logger::threadErrors().clear(); }
  std::string message(const std::string& what) const {
    std::string out = what;
    for (const auto& e : Logger::threadErrors()) out += (out == what ? ": " : "; ") + e;
    return out;
  }
};

// The runtime outlives every engine, so it is created once and never destroyed.
nvinfer1::IRuntime* runtime(std::string* error) {
  static std::mutex mutex;
  static nvinfer1::IRuntime* instance = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (instance) return instance;
  const TrtLibrary* lib = loadTrtLibrary(error);
  if (!lib) return nullptr;
  ErrorScope scope;
  instance = static_cast<nvinfer1::IRuntime*>(lib->createInferRuntime(&logger(), NV_TENSORRT_VERSION));
  if (!instance) *error = scope.message("createInferRuntime failed");
  return instance;
}

// ---------------------------------------------------------------------------------------------------
// Types and shapes

const char* dtypeName(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return "float32";
    case DataType::kHALF: return "float16";
    case DataType::kINT8: return "int8";
    case DataType::kINT32: return "int32";
    case DataType::kBOOL: return "bool";
    case DataType::kUINT8: return "uint8";
    case DataType::kFP8: return "fp8";
    case DataType::kBF16: return "bfloat16";
    case DataType::kINT64: return "int64";
    default: return "unsupported";
  }
}

size_t dtypeBytes(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
    case DataType::kINT32: return 4;
    case DataType::kHALF:
    case DataType::kBF16: return 2;
    case DataType::kINT8:
    case DataType::kBOOL:
    case DataType::kUINT8:
    case DataType::kFP8: return 1;
    case DataType::kINT64: return 8;
    default: return 0;
  }
}

std::string dimsText(const Dims& d) {
  std::string s = "[";
  for (int i = 0; i < d.nbDims; ++i) s += (i ? "," : "") + std::to_string(d.d[i]);
  return s + "]";
}

Napi::Array dimsArray(Napi::Env env, const Dims& d) {
  Napi::Array a = Napi::Array::New(env, d.nbDims);
  for (int i = 0; i < d.nbDims; ++i) a.Set(static_cast<uint32_t>(i), static_cast<double>(d.d[i]));
  return a;
}

int64_t volume(const Dims& d) {
  int64_t v = 1;
  for (int i = 0; i < d.nbDims; ++i) v *= d.d[i];
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Engine state shared by the JS object and the workers in flight (shared_ptr: closing the JS object
// while a run is in flight frees everything only when that run ends).

struct TensorMeta {
  std::string name;
  bool input;
  DataType dtype;
  Dims shape;          // -1 for dynamic dimensions
  Dims min, opt, max;  // profile 0 shape range (inputs)
};

struct Buffer {
  void* device = nullptr;
  size_t deviceBytes = 0;
  void* host = nullptr;  // pinned
  size_t hostBytes = 0;
};

struct ContextSlot {
  nvinfer1::IExecutionContext* context = nullptr;
  cudaStream_t stream = nullptr;
  std::map<std::string, Buffer> buffers;
};

bool cudaOk(cudaError_t err, const std::string& what, std::string* error) {
  if (err == cudaSuccess) return true;
  *error = what + ": " + cudaErrorText(static_cast<int>(err));
  return false;
}

// Buffers grow to the largest size seen and are then reused: no allocation on the steady path.
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

struct EngineState {
  int device = 0;
  std::string path;
  nvinfer1::ICudaEngine* engine = nullptr;
  std::vector<TensorMeta> tensors;
  std::vector<std::unique_ptr<ContextSlot>> slots;
  std::mutex mutex;
  std::condition_variable freed;
  std::vector<ContextSlot*> idle;

  const TensorMeta* find(const std::string& name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }

  ContextSlot* acquire() {
    std::unique_lock<std::mutex> lock(mutex);
    freed.wait(lock, [this] { return !idle.empty(); });
    ContextSlot* s = idle.back();
    idle.pop_back();
    return s;
  }
  void release(ContextSlot* s) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      idle.push_back(s);
    }
    freed.notify_one();
  }

  ~EngineState() {
    cudaSetDevice(device);
    for (auto& s : slots) {
      if (s->stream) cudaStreamSynchronize(s->stream);
      for (auto& kv : s->buffers) {
        if (kv.second.device) cudaFree(kv.second.device);
        if (kv.second.host) cudaFreeHost(kv.second.host);
      }
      delete s->context;  // TensorRT 10: plain delete, destroy() is gone
      if (s->stream) cudaStreamDestroy(s->stream);
    }
    delete engine;
  }
};

// ---------------------------------------------------------------------------------------------------
// openEngine(path, {contexts, plugins, device}) -> Promise<Engine>

Napi::FunctionReference* gEngineConstructor = nullptr;

class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, std::string path, int contexts, bool plugins, int device)
      : Napi::AsyncWorker(env, "ntrt.openEngine"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        contexts_(contexts),
        plugins_(plugins),
        device_(device) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string error;
    nvinfer1::IRuntime* rt = runtime(&error);
    if (!rt) return SetError(error);
    if (plugins_ && !loadTrtPlugins(&logger(), &error)) return SetError(error);
    std::ifstream file(path_, std::ios::binary | std::ios::ate);
    if (!file) return SetError("cannot read engine file " + path_);
    const std::streamsize size = file.tellg();
    std::vector<char> blob(static_cast<size_t>(size));
    file.seekg(0);
    if (size <= 0 || !file.read(blob.data(), size)) return SetError("cannot read engine file " + path_ + " (empty?)");
    if (!cudaOk(cudaSetDevice(device_), "cudaSetDevice(" + std::to_string(device_) + ")", &error)) {
      return SetError(error);
    }

    auto state = std::make_shared<EngineState>();
    state->device = device_;
    state->path = path_;
    ErrorScope scope;
    state->engine = rt->deserializeCudaEngine(blob.data(), blob.size());
    if (!state->engine) {
      return SetError(scope.message("cannot deserialise TensorRT engine " + path_ +
                                    " (built by another TensorRT version or for another GPU?)"));
    }
    const int32_t n = state->engine->getNbIOTensors();
    for (int32_t i = 0; i < n; ++i) {
      TensorMeta t;
      t.name = state->engine->getIOTensorName(i);
      t.input = state->engine->getTensorIOMode(t.name.c_str()) == nvinfer1::TensorIOMode::kINPUT;
      t.dtype = state->engine->getTensorDataType(t.name.c_str());
      t.shape = state->engine->getTensorShape(t.name.c_str());
      if (dtypeBytes(t.dtype) == 0) return SetError("tensor '" + t.name + "' has a data type node-tensorrt cannot handle");
      if (state->engine->getTensorVectorizedDim(t.name.c_str()) != -1) {
        return SetError("tensor '" + t.name + "' uses a vectorised IO format; build the engine with linear IO");
      }
      bool dynamic = false;
      for (int d = 0; d < t.shape.nbDims; ++d) dynamic = dynamic || t.shape.d[d] < 0;
      t.min = t.opt = t.max = t.shape;  // static tensors: the range is the shape itself
      if (t.input && dynamic && state->engine->getNbOptimizationProfiles() > 0) {
        t.min = state->engine->getProfileShape(t.name.c_str(), 0, nvinfer1::OptProfileSelector::kMIN);
        t.opt = state->engine->getProfileShape(t.name.c_str(), 0, nvinfer1::OptProfileSelector::kOPT);
        t.max = state->engine->getProfileShape(t.name.c_str(), 0, nvinfer1::OptProfileSelector::kMAX);
        if (t.min.nbDims != t.shape.nbDims || t.max.nbDims != t.shape.nbDims) {
          return SetError(scope.message("cannot read the optimisation profile of input '" + t.name + "'"));
        }
      }
      state->tensors.push_back(t);
    }
    const int32_t profiles = state->engine->getNbOptimizationProfiles();
    for (int i = 0; i < contexts_; ++i) {
      auto slot = std::make_unique<ContextSlot>();
      slot->context = state->engine->createExecutionContext();
      if (!slot->context) return SetError(scope.message("cannot create execution context " + std::to_string(i)));
      if (!cudaOk(cudaStreamCreateWithFlags(&slot->stream, cudaStreamNonBlocking), "cudaStreamCreate", &error)) {
        state->slots.push_back(std::move(slot));  // freed by ~EngineState
        return SetError(error);
      }
      if (profiles > 1 && !slot->context->setOptimizationProfileAsync(i % profiles, slot->stream)) {
        return SetError(scope.message("cannot select optimisation profile " + std::to_string(i % profiles)));
      }
      state->idle.push_back(slot.get());
      state->slots.push_back(std::move(slot));
    }
    state_ = state;
  }

  void OnOK() override {
    Napi::Env env = Env();
    auto* holder = new std::shared_ptr<EngineState>(state_);
    Napi::Object obj = gEngineConstructor->New({Napi::External<std::shared_ptr<EngineState>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<EngineState>* p) { delete p; })});
    deferred_.Resolve(obj);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  int contexts_;
  bool plugins_;
  int device_;
  std::shared_ptr<EngineState> state_;
};

// ---------------------------------------------------------------------------------------------------
// infer(inputs, {hostOutputs, hsf}) -> Promise<{outputs, hsf?}>

enum class HostType { F32, U16, I64, I32, U8 };

const char* hostTypeName(HostType t) {
  switch (t) {
    case HostType::F32: return "Float32Array";
    case HostType::U16: return "Uint16Array (float16 bits)";
    case HostType::I64: return "BigInt64Array";
    case HostType::I32: return "Int32Array";
    default: return "Uint8Array";
  }
}

struct HostInput {
  std::string name;
  HostType type;
  const void* data;
  size_t elements;
  Dims shape;
  Napi::ObjectReference keep;  // keeps the caller's array alive while the worker reads it
};

struct HostOutput {
  std::string name;
  DataType dtype;
  Dims shape;
  std::unique_ptr<std::vector<uint8_t>> bytes;  // float16 already widened to float32
};

// Converts the caller's array into the engine's dtype (FP16 and int32/int64 at the boundary).
bool copyInput(const HostInput& in, DataType to, void* dst, std::string* error) {
  const size_t n = in.elements;
  auto mismatch = [&]() {
    *error = "input '" + in.name + "' is " + dtypeName(to) + " in the engine; a " + hostTypeName(in.type) +
             " cannot be converted to it";
    return false;
  };
  switch (to) {
    case DataType::kFLOAT:
      if (in.type != HostType::F32) return mismatch();
      std::memcpy(dst, in.data, n * 4);
      return true;
    case DataType::kHALF: {
      auto* out = static_cast<uint16_t*>(dst);
      if (in.type == HostType::U16) {
        std::memcpy(dst, in.data, n * 2);
      } else if (in.type == HostType::F32) {
        const auto* src = static_cast<const float*>(in.data);
        for (size_t i = 0; i < n; ++i) out[i] = floatToHalf(src[i]);
      } else {
        return mismatch();
      }
      return true;
    }
    case DataType::kINT64: {
      auto* out = static_cast<int64_t*>(dst);
      if (in.type == HostType::I64) {
        std::memcpy(dst, in.data, n * 8);
      } else if (in.type == HostType::I32) {
        const auto* src = static_cast<const int32_t*>(in.data);
        for (size_t i = 0; i < n; ++i) out[i] = src[i];
      } else {
        return mismatch();
      }
      return true;
    }
    case DataType::kINT32: {
      auto* out = static_cast<int32_t*>(dst);
      if (in.type == HostType::I32) {
        std::memcpy(dst, in.data, n * 4);
      } else if (in.type == HostType::I64) {
        const auto* src = static_cast<const int64_t*>(in.data);
        for (size_t i = 0; i < n; ++i) {
          if (src[i] < std::numeric_limits<int32_t>::min() || src[i] > std::numeric_limits<int32_t>::max()) {
            *error = "input '" + in.name + "' element " + std::to_string(i) + " does not fit the engine's int32";
            return false;
          }
          out[i] = static_cast<int32_t>(src[i]);
        }
      } else {
        return mismatch();
      }
      return true;
    }
    case DataType::kBOOL:
    case DataType::kUINT8:
      if (in.type != HostType::U8) return mismatch();
      std::memcpy(dst, in.data, n);
      return true;
    default:
      return mismatch();
  }
}

class InferWorker : public Napi::AsyncWorker {
 public:
  InferWorker(Napi::Env env, std::shared_ptr<EngineState> state, std::vector<HostInput> inputs,
              std::unordered_set<std::string> deviceOnly, bool runHsf, HsfDeviceRequest hsf)
      : Napi::AsyncWorker(env, "ntrt.infer"),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(std::move(state)),
        inputs_(std::move(inputs)),
        deviceOnly_(std::move(deviceOnly)),
        runHsf_(runHsf),
        hsf_(std::move(hsf)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    ContextSlot* slot = state_->acquire();
    std::string error;
    const bool ok = run(slot, &error);
    if (!ok && slot->stream) cudaStreamSynchronize(slot->stream);  // nothing may still write our buffers
    state_->release(slot);
    if (!ok) SetError(error);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    Napi::Object outputs = Napi::Object::New(env);
    for (auto& out : outputs_) {
      const size_t bytes = out.bytes->size();
      auto* vec = out.bytes.release();
      Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
          env, vec->data(), bytes, [](Napi::Env, void*, std::vector<uint8_t>* v) { delete v; }, vec);
      Napi::Value data;
      switch (out.dtype) {
        case DataType::kFLOAT:
        case DataType::kHALF: data = Napi::Float32Array::New(env, bytes / 4, ab, 0); break;
        case DataType::kINT32: data = Napi::Int32Array::New(env, bytes / 4, ab, 0); break;
        case DataType::kINT64: data = Napi::BigInt64Array::New(env, bytes / 8, ab, 0); break;
        case DataType::kINT8: data = Napi::Int8Array::New(env, bytes, ab, 0); break;
        default: data = Napi::Uint8Array::New(env, bytes, ab, 0); break;
      }
      Napi::Object o = Napi::Object::New(env);
      o.Set("data", data);
      o.Set("shape", dimsArray(env, out.shape));
      o.Set("dtype", dtypeName(out.dtype));
      outputs.Set(out.name, o);
    }
    result.Set("outputs", outputs);
    if (runHsf_) result.Set("hsf", hsfResultObject(env, hsfResult_));
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  bool run(ContextSlot* slot, std::string* error) {
    if (!cudaOk(cudaSetDevice(state_->device), "cudaSetDevice", error)) return false;
    ErrorScope scope;
    nvinfer1::IExecutionContext* ctx = slot->context;

    // Inputs: shape checks against the profile, convert into pinned memory, copy to the device.
    std::unordered_set<std::string> given;
    for (const HostInput& in : inputs_) {
      const TensorMeta* meta = state_->find(in.name);
      if (!meta || !meta->input) {
        *error = "the engine has no input named '" + in.name + "'";
        return false;
      }
      if (in.shape.nbDims != meta->shape.nbDims) {
        *error = "input '" + in.name + "' has rank " + std::to_string(in.shape.nbDims) + ", the engine expects " +
                 dimsText(meta->shape);
        return false;
      }
      for (int d = 0; d < in.shape.nbDims; ++d) {
        if (in.shape.d[d] < meta->min.d[d] || in.shape.d[d] > meta->max.d[d]) {
          *error = "input '" + in.name + "' shape " + dimsText(in.shape) + " is outside the engine's range " +
                   dimsText(meta->min) + ".." + dimsText(meta->max) + " (dimension " + std::to_string(d) + ")";
          return false;
        }
      }
      if (static_cast<int64_t>(in.elements) != volume(in.shape)) {
        *error = "input '" + in.name + "' holds " + std::to_string(in.elements) + " values, its shape " +
                 dimsText(in.shape) + " needs " + std::to_string(volume(in.shape));
        return false;
      }
      if (!ctx->setInputShape(in.name.c_str(), in.shape)) {
        *error = scope.message("setInputShape('" + in.name + "', " + dimsText(in.shape) + ") failed");
        return false;
      }
      const size_t bytes = in.elements * dtypeBytes(meta->dtype);
      Buffer& buf = slot->buffers[in.name];
      if (!ensureHost(buf, bytes, error) || !ensureDevice(buf, bytes, error)) return false;
      if (!copyInput(in, meta->dtype, buf.host, error)) return false;
      if (!cudaOk(cudaMemcpyAsync(buf.device, buf.host, bytes, cudaMemcpyHostToDevice, slot->stream),
                  "copy of input '" + in.name + "' to the device", error)) {
        return false;
      }
      if (!ctx->setTensorAddress(in.name.c_str(), buf.device)) {
        *error = scope.message("setTensorAddress('" + in.name + "') failed");
        return false;
      }
      given.insert(in.name);
    }
    std::string missing;
    for (const auto& t : state_->tensors)
      if (t.input && !given.count(t.name)) missing += (missing.empty() ? "" : ", ") + t.name;
    if (!missing.empty()) {
      *error = "missing engine inputs: " + missing;
      return false;
    }

    // Outputs: shapes follow from the input shapes; buffers grow when needed.
    std::vector<std::pair<const TensorMeta*, Dims>> outs;
    for (const auto& t : state_->tensors) {
      if (t.input) continue;
      Dims shape = ctx->getTensorShape(t.name.c_str());
      for (int d = 0; d < shape.nbDims; ++d) {
        if (shape.d[d] < 0) {
          *error = scope.message("output '" + t.name + "' has a data-dependent shape " + dimsText(shape) +
                                 ", which node-tensorrt does not support");
          return false;
        }
      }
      const size_t bytes = static_cast<size_t>(volume(shape)) * dtypeBytes(t.dtype);
      Buffer& buf = slot->buffers[t.name];
      if (!ensureDevice(buf, bytes == 0 ? 1 : bytes, error)) return false;
      if (!ctx->setTensorAddress(t.name.c_str(), buf.device)) {
        *error = scope.message("setTensorAddress('" + t.name + "') failed");
        return false;
      }
      outs.emplace_back(&t, shape);
    }

    if (!ctx->enqueueV3(slot->stream)) {
      *error = scope.message("TensorRT enqueueV3 failed");
      return false;
    }

    // HSF on the device buffers, on the same stream, before anything comes back.
    if (runHsf_) {
      const TensorMeta* tok = state_->find(hsf_.tokens);
      const TensorMeta* glob = state_->find(hsf_.globalFeature);
      const TensorMeta* text = state_->find(hsf_.textFeatures);
      if (!tok || !glob || !text || tok->input || glob->input || text->input) {
        *error = "HSF needs engine outputs '" + hsf_.tokens + "', '" + hsf_.globalFeature + "' and '" +
                 hsf_.textFeatures + "'";
        return false;
      }
      const Dims ts = ctx->getTensorShape(tok->name.c_str());
      if (ts.nbDims != 4 || tok->dtype != glob->dtype || tok->dtype != text->dtype ||
          (tok->dtype != DataType::kFLOAT && tok->dtype != DataType::kHALF)) {
        *error = "HSF needs float32 or float16 outputs with hsf_tokens [B,K,L,D]; got " + dimsText(ts);
        return false;
      }
      HsfDeviceInputs hin{slot->buffers[tok->name].device, slot->buffers[glob->name].device,
                          slot->buffers[text->name].device, tok->dtype == DataType::kHALF,
                          static_cast<int>(ts.d[0]), static_cast<int>(ts.d[1]), static_cast<int>(ts.d[2]),
                          static_cast<int>(ts.d[3])};
      if (!runHsfOnDevice(hin, hsf_, slot->stream, &hsfResult_, error)) return false;
    }

    // Only what leaves the engine is copied back, into pinned memory.
    std::vector<std::pair<const TensorMeta*, Dims>> back;
    for (auto& [meta, shape] : outs) {
      if (deviceOnly_.count(meta->name)) continue;
      const size_t bytes = static_cast<size_t>(volume(shape)) * dtypeBytes(meta->dtype);
      Buffer& buf = slot->buffers[meta->name];
      if (!ensureHost(buf, bytes == 0 ? 1 : bytes, error)) return false;
      if (!cudaOk(cudaMemcpyAsync(buf.host, buf.device, bytes, cudaMemcpyDeviceToHost, slot->stream),
                  "copy of output '" + meta->name + "' to the host", error)) {
        return false;
      }
      back.emplace_back(meta, shape);
    }
    if (!cudaOk(cudaStreamSynchronize(slot->stream), "inference on the GPU", error)) return false;
    if (!Logger::threadErrors().empty()) {
      *error = scope.message("TensorRT reported errors during inference");
      return false;
    }

    for (auto& [meta, shape] : back) {
      const size_t n = static_cast<size_t>(volume(shape));
      const Buffer& buf = slot->buffers[meta->name];
      HostOutput out{meta->name, meta->dtype, shape, std::make_unique<std::vector<uint8_t>>()};
      if (meta->dtype == DataType::kHALF) {  // widen at the boundary: callers always see float32
        out.bytes->resize(n * 4);
        auto* dst = reinterpret_cast<float*>(out.bytes->data());
        const auto* src = static_cast<const uint16_t*>(buf.host);
        for (size_t i = 0; i < n; ++i) dst[i] = halfToFloat(src[i]);
      } else {
        const size_t bytes = n * dtypeBytes(meta->dtype);
        out.bytes->resize(bytes);
        std::memcpy(out.bytes->data(), buf.host, bytes);
      }
      outputs_.push_back(std::move(out));
    }
    return true;
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<EngineState> state_;
  std::vector<HostInput> inputs_;
  std::unordered_set<std::string> deviceOnly_;
  bool runHsf_;
  HsfDeviceRequest hsf_;
  HsfHostResult hsfResult_;
  std::vector<HostOutput> outputs_;
};

// ---------------------------------------------------------------------------------------------------
// The JS Engine object

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
    auto* worker = new InferWorker(env, state, std::move(inputs), std::move(deviceOnly), runHsf, hsf);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
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
  auto* worker = new OpenWorker(env, info[0].As<Napi::String>().Utf8Value(), contexts, plugins, device);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

Napi::Value TensorRtLog(const Napi::CallbackInfo& info) {
  auto lines = logger().drain();
  Napi::Array arr = Napi::Array::New(info.Env(), lines.size());
  for (uint32_t i = 0; i < lines.size(); ++i) arr.Set(i, lines[i]);
  return arr;
}

}  // namespace

void registerTrtSession(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = EngineWrap::define(env);
  gEngineConstructor = new Napi::FunctionReference(Napi::Persistent(ctor));
  exports.Set("openEngine", Napi::Function::New(env, OpenEngine, "openEngine"));
  exports.Set("tensorRtLog", Napi::Function::New(env, TensorRtLog, "tensorRtLog"));
}

}  // namespace ntrt

#endif  // NTRT_HAVE_TENSORRT
