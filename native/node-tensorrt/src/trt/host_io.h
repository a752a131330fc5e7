// The caller's input arrays and the outputs on their way back: what infer() takes from JS and gives
// back, and the conversion of an input into the engine's dtype (FP16 and int32/int64 at the boundary).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "preprocess/pp_plan.h"
#include "trt/types.h"

namespace ntrt::trt {

enum class HostType { F32, U16, I64, I32, U8 };

/** The JS array type's name, for messages. */
const char* hostTypeName(HostType t);

struct HostInput {
  std::string name;
  HostType type;
  const void* data;
  size_t elements;
  Dims shape;
  Napi::ObjectReference keep;  // keeps the caller's array alive while the worker reads it
  // Or camera frames that the preprocessing kernels turn into this [B,3,S,S] input on the device
  // (data is then null): the frames, their arrays kept alive, S and the normalisation.
  std::vector<pp::FrameInput> frames;
  std::vector<Napi::ObjectReference> keepFrames;
  int frameSize = 0;
  double mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
};

struct HostOutput {
  std::string name;
  DataType dtype;
  Dims shape;
  std::unique_ptr<std::vector<uint8_t>> bytes;  // float16 already widened to float32
};

// Converts the caller's array into the engine's dtype (FP16 and int32/int64 at the boundary).
bool copyInput(const HostInput& in, DataType to, void* dst, std::string* error);

}  // namespace ntrt::trt
