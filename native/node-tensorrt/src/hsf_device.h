// The seam between the TensorRT session and the HSF kernels: the session runs HSF on its output
// buffers while they are still on the device, on the same stream, and copies back only the result.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ntrt {

struct HsfDeviceRequest {
  int kClusters = 20;
  double alpha = 0.2;  // double: the reference fuses in float64 (0.2 != 0.2f)
  // Names of the engine outputs HSF reads (docs/model-bundle.md).
  std::string tokens = "hsf_tokens";          // float32/float16 [B,K,L,D]
  std::string globalFeature = "global_feature";  // [B,D]
  std::string textFeatures = "text_features";  // [B,2,D]
};

struct HsfDeviceInputs {
  const void* tokens;  // device pointers, linear layout
  const void* globalFeature;
  const void* textFeatures;
  bool half;  // true when the three tensors are float16
  int batch, topK, layers, embedDim;
};

struct HsfHostResult {
  std::vector<float> scores;    // [B]
  std::vector<float> fused;     // [B,D]
  std::vector<int32_t> labels;  // [B,K]
  std::vector<float> feature;   // [B,D] f, the cluster feature before fusion
  std::vector<double> inertia;  // [B]
};

/** { scores, fused, labels, clusterFeature, inertia } as in src/hsf/types.ts HsfResult. */
Napi::Object hsfResultObject(Napi::Env env, const HsfHostResult& r);

/** True when the HSF kernels are built into this addon. */
bool hsfAvailable();

/** Runs HSF on device tensors on `stream` (a cudaStream_t) and fills *out; false and *error on failure. */
bool runHsfOnDevice(const HsfDeviceInputs& in, const HsfDeviceRequest& req, void* stream, HsfHostResult* out,
                    std::string* error);

}  // namespace ntrt
