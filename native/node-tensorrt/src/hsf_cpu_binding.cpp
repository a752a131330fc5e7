// N-API side of the native CPU HSF (src/hsf/hsf_cpu.h), in every variant of the addon:
//   exports.hsfCpu = { kernel, runSync(input, settings, options), run(input, settings, options) }
// run() works on a libuv pool thread and resolves with an HsfResult (src/hsf/types.ts); runSync()
// is the same on the calling thread (benchmarks, callers already off the event loop). options:
// { threads, nInit, maxIter, tol, seed, hartigan } (src/hsf/native-cpu.ts passes them all).
#include <cstring>
#include <string>

#include "common.h"
#include "hsf/hsf_cpu.h"
#include "hsf_args.h"

namespace ntrt {
namespace {

struct CpuCall {
  hsf_cpu::Batch batch{};
  HsfKMeansParams params{};
  int threads = 1;
};

/** The JavaScript arrays of one call: inputs kept alive while a worker reads them, outputs it fills. */
struct CpuArrays {
  Napi::Float32Array scores, fused, feature;
  Napi::Int32Array labels;
  Napi::Float64Array inertia;

  hsf_cpu::Outputs outputs() {
    return {scores.Data(), fused.Data(), feature.Data(), labels.Data(), inertia.Data()};
  }
  Napi::Object result(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("scores", scores);
    o.Set("fused", fused);
    o.Set("clusterFeature", feature);
    o.Set("labels", labels);
    o.Set("inertia", inertia);
    return o;
  }
};

double numberField(Napi::Env env, Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("hsfCpu.run: options.") + name + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

/** Reads (input, settings, options) and allocates the outputs; throws a named TypeError on bad input. */
CpuCall readCall(const Napi::CallbackInfo& info, CpuArrays* arrays, Napi::Object* inputs) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsObject() || !info[2].IsObject()) {
    throw Napi::TypeError::New(env, "hsfCpu.run(input, settings, options): three objects");
  }
  Napi::Object in = info[0].As<Napi::Object>();
  Napi::Object settings = info[1].As<Napi::Object>();
  Napi::Object options = info[2].As<Napi::Object>();
  CpuCall call;
  hsf_cpu::Batch& b = call.batch;
  b.B = positiveInt(env, in, "batch");
  b.K = positiveInt(env, in, "topK");
  b.L = positiveInt(env, in, "layers");
  b.D = positiveInt(env, in, "embedDim");
  b.k = positiveInt(env, settings, "kClusters");
  if (b.k > b.K) throw Napi::RangeError::New(env, "hsfCpu.run: kClusters is larger than topK");
  b.alpha = numberField(env, settings, "alpha");
  const size_t B = b.B, K = b.K, L = b.L, D = b.D;
  auto tokens = floats(env, in, "tokens", B * K * L * D);
  auto u = floats(env, in, "globalFeature", B * D);
  auto t = floats(env, in, "textFeatures", B * 2 * D);
  b.tokens = tokens.Data();
  b.u = u.Data();
  b.t = t.Data();
  *inputs = in;
  call.threads = positiveInt(env, options, "threads");
  call.params.n_init = positiveInt(env, options, "nInit");
  call.params.max_iter = positiveInt(env, options, "maxIter");
  call.params.tol = numberField(env, options, "tol");
  call.params.seed = static_cast<uint32_t>(numberField(env, options, "seed"));
  call.params.hartigan = options.Get("hartigan").ToBoolean().Value() ? 1 : 0;
  arrays->scores = Napi::Float32Array::New(env, B);
  arrays->fused = Napi::Float32Array::New(env, B * D);
  arrays->feature = Napi::Float32Array::New(env, B * D);
  arrays->labels = Napi::Int32Array::New(env, B * K);
  arrays->inertia = Napi::Float64Array::New(env, B);
  return call;
}

Napi::Value RunSync(const Napi::CallbackInfo& info) {
  CpuArrays arrays;
  Napi::Object inputs;
  const CpuCall call = readCall(info, &arrays, &inputs);
  std::string error;
  if (!hsf_cpu::runBatch(call.batch, call.params, call.threads, arrays.outputs(), &error)) {
    throw Napi::Error::New(info.Env(), error);
  }
  return arrays.result(info.Env());
}

class CpuWorker : public Napi::AsyncWorker {
 public:
  CpuWorker(Napi::Env env, CpuCall call, CpuArrays arrays, Napi::Object inputs)
      : Napi::AsyncWorker(env, "ntrt.hsfCpu"),
        deferred_(Napi::Promise::Deferred::New(env)),
        call_(call),
        outputs_(arrays.outputs()) {
    // the inputs and outputs stay alive (and their memory in place) until the worker is done
    keepInputs_ = Napi::Persistent(inputs);
    keep_[0] = Napi::Persistent(arrays.scores.As<Napi::Object>());
    keep_[1] = Napi::Persistent(arrays.fused.As<Napi::Object>());
    keep_[2] = Napi::Persistent(arrays.feature.As<Napi::Object>());
    keep_[3] = Napi::Persistent(arrays.labels.As<Napi::Object>());
    keep_[4] = Napi::Persistent(arrays.inertia.As<Napi::Object>());
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    std::string error;
    if (!hsf_cpu::runBatch(call_.batch, call_.params, call_.threads, outputs_, &error)) SetError(error);
  }
  void OnOK() override {
    // handles from the call's scope are gone by now: rebuild the result from the references
    CpuArrays done;
    done.scores = keep_[0].Value().As<Napi::Float32Array>();
    done.fused = keep_[1].Value().As<Napi::Float32Array>();
    done.feature = keep_[2].Value().As<Napi::Float32Array>();
    done.labels = keep_[3].Value().As<Napi::Int32Array>();
    done.inertia = keep_[4].Value().As<Napi::Float64Array>();
    deferred_.Resolve(done.result(Env()));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  CpuCall call_;
  hsf_cpu::Outputs outputs_;
  Napi::ObjectReference keepInputs_;
  Napi::ObjectReference keep_[5];
};

// run() is async: bad input rejects the promise instead of throwing synchronously.
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    CpuArrays arrays;
    Napi::Object inputs;
    const CpuCall call = readCall(info, &arrays, &inputs);
    auto* worker = new CpuWorker(env, call, arrays, inputs);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  } catch (const Napi::Error& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(e.Value());
    return deferred.Promise();
  }
}

}  // namespace

void registerHsfCpu(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", Napi::String::New(env, hsf_cpu::kernelName()));
  o.Set("runSync", Napi::Function::New(env, RunSync, "runSync"));
  o.Set("run", Napi::Function::New(env, Run, "run"));
  exports.Set("hsfCpu", o);
}

}  // namespace ntrt
