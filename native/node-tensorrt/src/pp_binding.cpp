// N-API side of the preprocessing kernels (src/preprocess/), in every variant of the addon:
//   exports.preprocess = {
//     available(): the CUDA kernels are built in; reason(): why not;
//     host(frames, { size, mean, std, half? }): the kernels' arithmetic on the CPU (pp_host.cpp), on
//       the calling thread -> Float32Array (Uint16Array of float16 bits when half) [B,3,S,S];
//     device(frames, options): Promise<{ data, gpuMs }>, the same on the GPU, copied back (checks and
//       timings: gpuMs is the staging copy and both passes, by CUDA events) }.
// The TensorRT session runs the same kernels straight into the engine's input (trt/infer_worker.cpp).
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"
#include "pp_args.h"
#include "preprocess/pp_host.h"
#include "preprocess/pp_plan.h"

#ifdef NTRT_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "preprocess/pp_cuda.h"
#endif

namespace ntrt {
namespace {

constexpr const char* kWhere = "preprocess";

struct Request {
  std::vector<pp::FrameInput> frames;
  std::vector<Napi::ObjectReference> keep;
  pp::BatchPlan plan;
  bool half = false;
};

void readRequest(const Napi::CallbackInfo& info, Request* r) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "preprocess.host/device(frames, { size, mean, std, half? })");
  }
  Napi::Object o = info[1].As<Napi::Object>();
  r->frames = readFrames(env, info[0], kWhere, &r->keep);
  double mean[3], std[3];
  readTriple(env, o, "mean", kWhere, mean);
  readTriple(env, o, "std", kWhere, std);
  const int size = frameInt(env, o, "size", 0, "preprocess: ");
  Napi::Value half = o.Get("half");
  r->half = half.IsBoolean() && half.As<Napi::Boolean>().Value();
  std::string error;
  if (!pp::makePlan(r->frames, size, mean, std, &r->plan, &error)) throw Napi::RangeError::New(env, error);
}

Napi::Value outputArray(Napi::Env env, const std::vector<uint8_t>& bytes, bool half) {
  if (half) {
    auto a = Napi::Uint16Array::New(env, bytes.size() / 2);
    std::memcpy(a.Data(), bytes.data(), bytes.size());
    return a;
  }
  auto a = Napi::Float32Array::New(env, bytes.size() / 4);
  std::memcpy(a.Data(), bytes.data(), bytes.size());
  return a;
}

size_t outputBytes(const Request& r) {
  return r.plan.frames.size() * 3 * (size_t)r.plan.size * r.plan.size * (r.half ? 2 : 4);
}

Napi::Value Host(const Napi::CallbackInfo& info) {
  Request r;
  readRequest(info, &r);
  std::vector<uint8_t> src(r.plan.srcBytes);
  pp::packSources(r.frames, r.plan, src.data());
  std::vector<uint8_t> out(outputBytes(r));
  pp::runHost(r.plan, src.data(), r.half, out.data());
  return outputArray(info.Env(), out, r.half);
}

#ifdef NTRT_HAVE_CUDA

bool cudaOk(cudaError_t err, const char* what, std::string* error) {
  if (err == cudaSuccess) return true;
  *error = std::string("preprocess on the GPU: ") + what + ": " + cudaErrorText(static_cast<int>(err));
  return false;
}

/** The standalone runner's stream and buffers: one run at a time (checks and benchmarks). */
struct Runner {
  std::mutex mutex;
  cudaStream_t stream = nullptr;
  pp::DeviceScratch* scratch = nullptr;
  void* out = nullptr;
  size_t outBytes = 0;
};
Runner& runner() {
  static Runner* r = new Runner();  // never destroyed: CUDA may be torn down first at exit
  return *r;
}

class DeviceWorker : public Napi::AsyncWorker {
 public:
  DeviceWorker(Napi::Env env, std::unique_ptr<Request> r)
      : Napi::AsyncWorker(env, "ntrt.preprocess"), deferred_(Napi::Promise::Deferred::New(env)), r_(std::move(r)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string error;
    if (!run(&error)) SetError(error);
  }
  void OnOK() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("data", outputArray(Env(), out_, r_->half));
    o.Set("gpuMs", gpuMs_);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  bool run(std::string* error) {
    Runner& g = runner();
    std::lock_guard<std::mutex> lock(g.mutex);
    if (!g.stream && !cudaOk(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking), "stream", error)) return false;
    if (!g.scratch) g.scratch = pp::newDeviceScratch();
    const size_t bytes = outputBytes(*r_);
    if (bytes > g.outBytes) {
      if (g.out) cudaFree(g.out);
      g.out = nullptr;
      g.outBytes = 0;
      if (!cudaOk(cudaMalloc(&g.out, bytes), "cudaMalloc", error)) return false;
      g.outBytes = bytes;
    }
    cudaEvent_t start, stop;
    if (!cudaOk(cudaEventCreate(&start), "event", error)) return false;
    if (!cudaOk(cudaEventCreate(&stop), "event", error)) {
      cudaEventDestroy(start);
      return false;
    }
    bool ok = cudaOk(cudaEventRecord(start, g.stream), "event", error) &&
              pp::runOnDevice(r_->frames, r_->plan, g.scratch, g.stream, r_->half, g.out, error) &&
              cudaOk(cudaEventRecord(stop, g.stream), "event", error);
    if (ok) {
      out_.resize(bytes);
      ok = cudaOk(cudaMemcpyAsync(out_.data(), g.out, bytes, cudaMemcpyDeviceToHost, g.stream), "copy back", error);
    }
    // always wait: the scratch may not be reused while the stream still reads it
    const cudaError_t synced = cudaStreamSynchronize(g.stream);
    ok = ok && cudaOk(synced, "preprocessing kernels", error);
    float ms = 0;
    if (ok && cudaEventElapsedTime(&ms, start, stop) == cudaSuccess) gpuMs_ = ms;
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return ok;
  }

  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Request> r_;
  std::vector<uint8_t> out_;
  double gpuMs_ = 0;
};

Napi::Value Device(const Napi::CallbackInfo& info) {
  auto r = std::make_unique<Request>();
  readRequest(info, r.get());
  auto* worker = new DeviceWorker(info.Env(), std::move(r));
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

constexpr const char* kWhyNot = "";

#else

constexpr const char* kWhyNot = "node-tensorrt was built without CUDA (nvcc was absent at build time): preprocessing runs on the CPU";

Napi::Value Device(const Napi::CallbackInfo& info) {
  auto deferred = Napi::Promise::Deferred::New(info.Env());
  deferred.Reject(Napi::Error::New(info.Env(), kWhyNot).Value());
  return deferred.Promise();
}

#endif

}  // namespace

void registerPreprocess(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
#ifdef NTRT_HAVE_CUDA
  const bool available = true;
#else
  const bool available = false;
#endif
  o.Set("available", Napi::Function::New(env, [available](const Napi::CallbackInfo& i) {
          return Napi::Boolean::New(i.Env(), available);
        }));
  o.Set("reason", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Napi::String::New(i.Env(), kWhyNot); }));
  o.Set("host", Napi::Function::New(env, Host, "host"));
  o.Set("device", Napi::Function::New(env, Device, "device"));
  exports.Set("preprocess", o);
}

}  // namespace ntrt
