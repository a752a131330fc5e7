// N-API side of the HSF CUDA kernels (src/hsf/hsf_cuda.h, plain C API). Two ways in:
//  - runHsfOnDevice(): the TensorRT session runs HSF on its output buffers while they are still on
//    the device, on the session's stream;
//  - exports.hsf = { available(), reason(), createRunner() }: an HsfRunner (src/hsf/types.ts) for
//    host inputs, used by src/hsf/gpu.ts when the engine's outputs are on the host.
// Without CUDA or without the kernels every entry point reports why, and the service uses the CPU.
#include "common.h"
#include "hsf_args.h"
#include "hsf_device.h"

#include <cstring>

#if defined(NTRT_HAVE_CUDA) && defined(NTRT_HAVE_HSF)
#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>

#include "hsf/hsf_cuda.h"
#endif

namespace ntrt {

Napi::Object hsfResultObject(Napi::Env env, const HsfHostResult& r) {
  auto copyF32 = [&](const std::vector<float>& v) {
    auto a = Napi::Float32Array::New(env, v.size());
    std::memcpy(a.Data(), v.data(), v.size() * 4);
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("scores", copyF32(r.scores));
  o.Set("fused", copyF32(r.fused));
  o.Set("clusterFeature", copyF32(r.feature));
  auto labels = Napi::Int32Array::New(env, r.labels.size());
  std::memcpy(labels.Data(), r.labels.data(), r.labels.size() * 4);
  o.Set("labels", labels);
  auto inertia = Napi::Float64Array::New(env, r.inertia.size());
  std::memcpy(inertia.Data(), r.inertia.data(), r.inertia.size() * 8);
  o.Set("inertia", inertia);
  return o;
}

bool hsfAvailable() {
#if defined(NTRT_HAVE_CUDA) && defined(NTRT_HAVE_HSF)
  return true;
#else
  return false;
#endif
}

#if !(defined(NTRT_HAVE_CUDA) && defined(NTRT_HAVE_HSF))

namespace {
const char* kWhyNot = "node-tensorrt was built without the HSF CUDA kernels (no nvcc or no src/hsf)";
}

bool runHsfOnDevice(const HsfDeviceInputs&, const HsfDeviceRequest&, void*, HsfHostResult*, std::string* error) {
  *error = kWhyNot;
  return false;
}

void registerHsf(Napi::Env env, Napi::Object exports) {
  Napi::Object hsf = Napi::Object::New(env);
  hsf.Set("available", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Napi::Boolean::New(i.Env(), false); }));
  hsf.Set("reason", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), kWhyNot); }));
  hsf.Set("createRunner", Napi::Function::New(env, [](const Napi::CallbackInfo& i) -> Napi::Value {
            throw Napi::Error::New(i.Env(), kWhyNot);
          }));
  exports.Set("hsf", hsf);
}

#else

namespace {

/** A device allocation that grows to the largest size asked for. */
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  bool ensure(size_t want, std::string* error) {
    if (want <= bytes) return true;
    if (ptr) cudaFree(ptr);
    ptr = nullptr;
    bytes = 0;
    cudaError_t err = cudaMalloc(&ptr, want);
    if (err != cudaSuccess) {
      *error = "HSF: cudaMalloc(" + std::to_string(want) + "): " + cudaErrorText(static_cast<int>(err));
      return false;
    }
    bytes = want;
    return true;
  }
};

/** Output buffers of one HSF call site (a session context or a runner), reused call after call. */
struct HsfOutputs {
  DeviceBuffer scores, fused, feature, labels, inertia;
};

bool launch(const HsfDeviceInputs& in, int kClusters, double alpha, HsfOutputs& o, cudaStream_t stream,
            HsfHostResult* out, std::string* error) {
  const size_t B = in.batch, K = in.topK, D = in.embedDim;
  if (!o.scores.ensure(B * 4, error) || !o.fused.ensure(B * D * 4, error) || !o.feature.ensure(B * D * 4, error) ||
      !o.labels.ensure(B * K * 4, error) || !o.inertia.ensure(B * 8, error)) {
    return false;
  }
  HsfKMeansParams params = hsf_default_params();
  const int rc = hsf_run_batch(in.tokens, in.globalFeature, in.textFeatures, in.half ? 1 : 0, in.batch, in.topK,
                               in.layers, in.embedDim, kClusters, alpha, &params, static_cast<float*>(o.scores.ptr),
                               static_cast<float*>(o.fused.ptr), static_cast<float*>(o.feature.ptr),
                               static_cast<int32_t*>(o.labels.ptr), static_cast<double*>(o.inertia.ptr), stream);
  if (rc != 0) {
    *error = std::string("HSF on the GPU failed: ") + hsf_last_error();
    return false;
  }
  out->scores.resize(B);
  out->fused.resize(B * D);
  out->feature.resize(B * D);
  out->labels.resize(B * K);
  out->inertia.resize(B);
  struct Copy {
    void* dst;
    const void* src;
    size_t bytes;
  } copies[] = {{out->scores.data(), o.scores.ptr, B * 4},
                {out->fused.data(), o.fused.ptr, B * D * 4},
                {out->feature.data(), o.feature.ptr, B * D * 4},
                {out->labels.data(), o.labels.ptr, B * K * 4},
                {out->inertia.data(), o.inertia.ptr, B * 8}};
  for (const auto& c : copies) {
    cudaError_t err = cudaMemcpyAsync(c.dst, c.src, c.bytes, cudaMemcpyDeviceToHost, stream);
    if (err != cudaSuccess) {
      *error = "HSF: copy of the results to the host: " + cudaErrorText(static_cast<int>(err));
      return false;
    }
  }
  return true;
}

// The session's call site: one output set per thread is enough because a session context runs one
// batch at a time on one pool thread, and buffers are only reused after the stream is synchronised.
thread_local std::unique_ptr<HsfOutputs> tSessionOutputs;

// ----- The HsfRunner for host inputs ----------------------------------------------------------------

struct RunnerState {
  std::mutex mutex;  // one run at a time per runner: its buffers and stream are shared
  cudaStream_t stream = nullptr;
  DeviceBuffer tokens, u, t;
  HsfOutputs outputs;
  ~RunnerState() {
    if (stream) cudaStreamDestroy(stream);
  }
};

struct HostArrays {
  Napi::ObjectReference keep[3];
  const float* tokens;
  const float* u;
  const float* t;
};

class RunnerWorker : public Napi::AsyncWorker {
 public:
  RunnerWorker(Napi::Env env, std::shared_ptr<RunnerState> state, HostArrays arrays, HsfDeviceInputs shape, int k,
               double alpha)
      : Napi::AsyncWorker(env, "ntrt.hsf"),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(std::move(state)),
        arrays_(std::move(arrays)),
        shape_(shape),
        k_(k),
        alpha_(alpha) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::string error;
    if (!run(&error)) SetError(error);
  }
  void OnOK() override { deferred_.Resolve(hsfResultObject(Env(), result_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  bool run(std::string* error) {
    auto check = [&](cudaError_t err, const char* what) {
      if (err == cudaSuccess) return true;
      *error = std::string("HSF: ") + what + ": " + cudaErrorText(static_cast<int>(err));
      return false;
    };
    RunnerState& s = *state_;
    if (!s.stream && !check(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate")) {
      return false;
    }
    const size_t B = shape_.batch, K = shape_.topK, L = shape_.layers, D = shape_.embedDim;
    const size_t tokBytes = B * K * L * D * 4, uBytes = B * D * 4, tBytes = B * 2 * D * 4;
    if (!s.tokens.ensure(tokBytes, error) || !s.u.ensure(uBytes, error) || !s.t.ensure(tBytes, error)) return false;
    if (!check(cudaMemcpyAsync(s.tokens.ptr, arrays_.tokens, tokBytes, cudaMemcpyHostToDevice, s.stream), "copy tokens") ||
        !check(cudaMemcpyAsync(s.u.ptr, arrays_.u, uBytes, cudaMemcpyHostToDevice, s.stream), "copy u") ||
        !check(cudaMemcpyAsync(s.t.ptr, arrays_.t, tBytes, cudaMemcpyHostToDevice, s.stream), "copy t")) {
      return false;
    }
    HsfDeviceInputs in = shape_;
    in.tokens = s.tokens.ptr;
    in.globalFeature = s.u.ptr;
    in.textFeatures = s.t.ptr;
    in.half = false;
    const bool ok = launch(in, k_, alpha_, s.outputs, s.stream, &result_, error);
    const cudaError_t sync = cudaStreamSynchronize(s.stream);
    return ok && check(sync, "HSF kernels");
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<RunnerState> state_;
  HostArrays arrays_;
  HsfDeviceInputs shape_;
  int k_;
  double alpha_;
  HsfHostResult result_;
};

Napi::Value RunnerRunChecked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* state = static_cast<std::shared_ptr<RunnerState>*>(info.Data());
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "hsf.run(input, settings): HsfInput and HsfSettings objects");
  }
  Napi::Object in = info[0].As<Napi::Object>();
  Napi::Object settings = info[1].As<Napi::Object>();
  HsfDeviceInputs shape{};
  shape.batch = positiveInt(env, in, "batch");
  shape.topK = positiveInt(env, in, "topK");
  shape.layers = positiveInt(env, in, "layers");
  shape.embedDim = positiveInt(env, in, "embedDim");
  const int k = positiveInt(env, settings, "kClusters");
  Napi::Value alphaV = settings.Get("alpha");
  if (!alphaV.IsNumber()) throw Napi::TypeError::New(env, "hsf.run: settings.alpha must be a number");
  const size_t B = shape.batch, K = shape.topK, L = shape.layers, D = shape.embedDim;
  auto tokens = floats(env, in, "tokens", B * K * L * D);
  auto u = floats(env, in, "globalFeature", B * D);
  auto t = floats(env, in, "textFeatures", B * 2 * D);
  HostArrays arrays;
  arrays.tokens = tokens.Data();
  arrays.u = u.Data();
  arrays.t = t.Data();
  arrays.keep[0] = Napi::Persistent(tokens.As<Napi::Object>());
  arrays.keep[1] = Napi::Persistent(u.As<Napi::Object>());
  arrays.keep[2] = Napi::Persistent(t.As<Napi::Object>());
  auto* worker =
      new RunnerWorker(env, *state, std::move(arrays), shape, k, alphaV.As<Napi::Number>().DoubleValue());
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

// HsfRunner.run is async: bad input rejects the promise instead of throwing synchronously.
Napi::Value RunnerRun(const Napi::CallbackInfo& info) {
  try {
    return RunnerRunChecked(info);
  } catch (const Napi::Error& e) {
    auto deferred = Napi::Promise::Deferred::New(info.Env());
    deferred.Reject(e.Value());
    return deferred.Promise();
  }
}

std::string deviceProblem() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return "no usable CUDA device: " + cudaErrorText(static_cast<int>(err));
  }
  return count > 0 ? "" : "no CUDA device";
}

}  // namespace

bool runHsfOnDevice(const HsfDeviceInputs& in, const HsfDeviceRequest& req, void* stream, HsfHostResult* out,
                    std::string* error) {
  if (!tSessionOutputs) tSessionOutputs = std::make_unique<HsfOutputs>();
  return launch(in, req.kClusters, req.alpha, *tSessionOutputs, static_cast<cudaStream_t>(stream), out, error);
}

void registerHsf(Napi::Env env, Napi::Object exports) {
  Napi::Object hsf = Napi::Object::New(env);
  hsf.Set("available", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
            return Napi::Boolean::New(i.Env(), deviceProblem().empty());
          }));
  hsf.Set("reason", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
            const std::string p = deviceProblem();
            return Napi::String::New(i.Env(), p.empty() ? "HSF CUDA kernels available" : p);
          }));
  hsf.Set("maxTopK", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
            return Napi::Number::New(i.Env(), hsf_max_top_k());
          }));
  hsf.Set("createRunner", Napi::Function::New(env, [](const Napi::CallbackInfo& i) -> Napi::Value {
            Napi::Env e = i.Env();
            auto* state = new std::shared_ptr<RunnerState>(std::make_shared<RunnerState>());
            Napi::Object runner = Napi::Object::New(e);
            runner.Set("kind", "gpu");
            Napi::Function run = Napi::Function::New(e, RunnerRun, "run", state);
            // The runner's state lives as long as its run function.
            run.AddFinalizer([](Napi::Env, std::shared_ptr<RunnerState>* p) { delete p; }, state);
            runner.Set("run", run);
            return runner;
          }));
  exports.Set("hsf", hsf);
}

#endif

}  // namespace ntrt
