// See types.h.
#include "trt/types.h"

namespace ntrt::trt {

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

}  // namespace ntrt::trt
