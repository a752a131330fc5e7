// TensorRT data types and shapes: names, sizes, text for messages, JS arrays.
#pragma once
#include <NvInferRuntime.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ntrt::trt {

using nvinfer1::DataType;
using nvinfer1::Dims;

/** "float32", "float16", ...: the dtype names of src/engines/tensorrt.ts. */
const char* dtypeName(DataType t);
/** Bytes per element; 0 for a type the addon cannot handle. */
size_t dtypeBytes(DataType t);
/** "[1,3,518,518]" */
std::string dimsText(const Dims& d);
Napi::Array dimsArray(Napi::Env env, const Dims& d);
/** Product of the dimensions. */
int64_t volume(const Dims& d);

}  // namespace ntrt::trt
