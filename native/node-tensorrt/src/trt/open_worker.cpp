// See open_worker.h.
#include "trt/open_worker.h"

#include <fstream>
#include <memory>
#include <vector>

#include "trt/engine_state.h"
#include "trt/logger.h"
#include "trt/session.h"
#include "trt_library.h"

namespace ntrt::trt {
namespace {

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
    deferred_.Resolve(wrapEngineState(env, state_));
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

}  // namespace

Napi::Promise openEngineAsync(Napi::Env env, std::string path, int contexts, bool plugins, int device) {
  auto* worker = new OpenWorker(env, std::move(path), contexts, plugins, device);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

}  // namespace ntrt::trt
