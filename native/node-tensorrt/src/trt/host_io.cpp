// See host_io.h.
#include "trt/host_io.h"

#include <cstring>
#include <limits>

#include "half.h"

namespace ntrt::trt {

const char* hostTypeName(HostType t) {
  switch (t) {
    case HostType::F32: return "Float32Array";
    case HostType::U16: return "Uint16Array (float16 bits)";
    case HostType::I64: return "BigInt64Array";
    case HostType::I32: return "Int32Array";
    default: return "Uint8Array";
  }
}

bool copyInput(const HostInput& in, DataType to, void* dst, std::string* error) {
  const size_t n = in.elements;
  auto mismatch = [&]() {
    *error = "input '" + in.name + "' is " + dtypeName(to) + " in the engine; a " + hostTypeName(in.type) +
             " cannot be converted to it";
    return false;
  };
  switch (to) {
    case DataType::kFLOAT:
      if (in.type != HostType::F32) return mismatch();
      std::memcpy(dst, in.data, n * 4);
      return true;
    case DataType::kHALF: {
      auto* out = static_cast<uint16_t*>(dst);
      if (in.type == HostType::U16) {
        std::memcpy(dst, in.data, n * 2);
      } else if (in.type == HostType::F32) {
        const auto* src = static_cast<const float*>(in.data);
        for (size_t i = 0; i < n; ++i) out[i] = floatToHalf(src[i]);
      } else {
        return mismatch();
      }
      return true;
    }
    case DataType::kINT64: {
      auto* out = static_cast<int64_t*>(dst);
      if (in.type == HostType::I64) {
        std::memcpy(dst, in.data, n * 8);
      } else if (in.type == HostType::I32) {
        const auto* src = static_cast<const int32_t*>(in.data);
        for (size_t i = 0; i < n; ++i) out[i] = src[i];
      } else {
        return mismatch();
      }
      return true;
    }
    case DataType::kINT32: {
      auto* out = static_cast<int32_t*>(dst);
      if (in.type == HostType::I32) {
        std::memcpy(dst, in.data, n * 4);
      } else if (in.type == HostType::I64) {
        const auto* src = static_cast<const int64_t*>(in.data);
        for (size_t i = 0; i < n; ++i) {
          if (src[i] < std::numeric_limits<int32_t>::min() || src[i] > std::numeric_limits<int32_t>::max()) {
            *error = "input '" + in.name + "' element " + std::to_string(i) + " does not fit the engine's int32";
            return false;
          }
          out[i] = static_cast<int32_t>(src[i]);
        }
      } else {
        return mismatch();
      }
      return true;
    }
    case DataType::kBOOL:
    case DataType::kUINT8:
      if (in.type != HostType::U8) return mismatch();
      std::memcpy(dst, in.data, n);
      return true;
    default:
      return mismatch();
  }
}

}  // namespace ntrt::trt
