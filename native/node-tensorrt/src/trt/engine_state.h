// Engine state shared by the JS object and the workers in flight (shared_ptr: closing the JS object
// while a run is in flight frees everything only when that run ends): the deserialised engine, its IO
// tensors, and one execution context with its own CUDA stream and buffers per run in flight.
#pragma once
#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "preprocess/pp_cuda.h"
#include "trt/buffers.h"
#include "trt/types.h"

namespace ntrt::trt {

struct TensorMeta {
  std::string name;
  bool input;
  DataType dtype;
  Dims shape;          // -1 for dynamic dimensions
  Dims min, opt, max;  // profile 0 shape range (inputs)
};

struct ContextSlot {
  nvinfer1::IExecutionContext* context = nullptr;
  cudaStream_t stream = nullptr;
  std::map<std::string, Buffer> buffers;
  pp::DeviceScratch* preprocess = nullptr;  // made at the first frame input
};

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

  ~EngineState();
};

}  // namespace ntrt::trt
