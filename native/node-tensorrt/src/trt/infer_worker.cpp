// See infer_worker.h.
#include "trt/infer_worker.h"

#include <cstring>
#include <utility>

#include "half.h"
#include "trt/logger.h"

namespace ntrt::trt {
namespace {

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
  // Camera frames in, the engine's float32/float16 input out, on the device: the preprocessing
  // kernels write straight into the input buffer, on the context's stream (no host tensor).
  static bool stageFrames(const HostInput& in, const TensorMeta& meta, ContextSlot* slot, Buffer& buf, size_t bytes,
                          std::string* error) {
    if (meta.dtype != DataType::kFLOAT && meta.dtype != DataType::kHALF) {
      *error = "input '" + in.name + "' is " + dtypeName(meta.dtype) +
               " in the engine; frames are preprocessed into float32 or float16 only";
      return false;
    }
    pp::BatchPlan plan;
    if (!pp::makePlan(in.frames, in.frameSize, in.mean, in.std, &plan, error)) return false;
    if (!ensureDevice(buf, bytes, error)) return false;
    if (!slot->preprocess) slot->preprocess = pp::newDeviceScratch();
    return pp::runOnDevice(in.frames, plan, slot->preprocess, slot->stream, meta.dtype == DataType::kHALF, buf.device,
                           error);
  }

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
      if (!in.frames.empty()) {
        if (!stageFrames(in, *meta, slot, buf, bytes, error)) return false;
      } else {
        if (!ensureHost(buf, bytes, error) || !ensureDevice(buf, bytes, error)) return false;
        if (!copyInput(in, meta->dtype, buf.host, error)) return false;
        if (!cudaOk(cudaMemcpyAsync(buf.device, buf.host, bytes, cudaMemcpyHostToDevice, slot->stream),
                    "copy of input '" + in.name + "' to the device", error)) {
          return false;
        }
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

}  // namespace

Napi::Promise inferAsync(Napi::Env env, std::shared_ptr<EngineState> state, std::vector<HostInput> inputs,
                         std::unordered_set<std::string> deviceOnly, bool runHsf, HsfDeviceRequest hsf) {
  auto* worker = new InferWorker(env, std::move(state), std::move(inputs), std::move(deviceOnly), runHsf, hsf);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

}  // namespace ntrt::trt
