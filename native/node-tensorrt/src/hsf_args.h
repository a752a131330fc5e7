// Reading an HsfInput and HsfSettings (src/hsf/types.ts) from JavaScript, shared by the GPU and the
// CPU HSF bindings: each bad field is a TypeError or RangeError that names it.
#pragma once
#include <napi.h>

#include <string>

namespace ntrt {

inline int positiveInt(Napi::Env env, Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 1 ||
      v.As<Napi::Number>().DoubleValue() != static_cast<double>(v.As<Napi::Number>().Int32Value())) {
    throw Napi::TypeError::New(env, std::string("hsf.run: ") + name + " must be a positive integer");
  }
  return v.As<Napi::Number>().Int32Value();
}

inline Napi::Float32Array floats(Napi::Env env, Napi::Object o, const char* name, size_t want) {
  Napi::Value v = o.Get(name);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, std::string("hsf.run: ") + name + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != want) {
    throw Napi::RangeError::New(env, std::string("hsf.run: ") + name + " holds " + std::to_string(a.ElementLength()) +
                                         " floats, the shape needs " + std::to_string(want));
  }
  return a;
}

}  // namespace ntrt
