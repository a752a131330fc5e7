// Reading camera frames and the normalisation for the preprocessing kernels from JavaScript, shared by
// exports.preprocess (pp_binding.cpp) and the TensorRT session's frame inputs: each bad field is a
// TypeError naming the frame and the field (the kernels' own checks are in pp_plan.cpp).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "preprocess/pp_plan.h"

namespace ntrt {

inline int frameInt(Napi::Env env, Napi::Object o, const char* name, int fallback, const std::string& what) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() != (double)v.As<Napi::Number>().Int32Value()) {
    throw Napi::TypeError::New(env, what + name + " must be an integer");
  }
  return v.As<Napi::Number>().Int32Value();
}

/**
 * frames: [{ data: Uint8Array, width, height, stride? (width * channels), channels? (3), bgr? (true),
 * rotate? (0), roi?: { x, y, width, height } }]. `keep` holds the arrays while a worker reads them.
 */
inline std::vector<pp::FrameInput> readFrames(Napi::Env env, Napi::Value value, const std::string& where,
                                              std::vector<Napi::ObjectReference>* keep) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, where + ": frames must be an array");
  Napi::Array arr = value.As<Napi::Array>();
  std::vector<pp::FrameInput> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    const std::string what = where + ": frame " + std::to_string(i) + ": ";
    Napi::Value fv = arr.Get(i);
    if (!fv.IsObject()) throw Napi::TypeError::New(env, what + "expected { data, width, height, ... }");
    Napi::Object o = fv.As<Napi::Object>();
    Napi::Value data = o.Get("data");
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, what + "data must be a Uint8Array");
    }
    auto bytes = data.As<Napi::Uint8Array>();
    pp::FrameInput f;
    f.data = bytes.Data();
    f.bytes = bytes.ElementLength();
    f.width = frameInt(env, o, "width", 0, what);
    f.height = frameInt(env, o, "height", 0, what);
    f.channels = frameInt(env, o, "channels", 3, what);
    f.stride = frameInt(env, o, "stride", f.width * f.channels, what);
    f.rotate = frameInt(env, o, "rotate", 0, what);
    Napi::Value bgr = o.Get("bgr");
    if (!bgr.IsUndefined() && !bgr.IsBoolean()) throw Napi::TypeError::New(env, what + "bgr must be a boolean");
    f.bgr = bgr.IsUndefined() ? true : bgr.As<Napi::Boolean>().Value();
    Napi::Value roi = o.Get("roi");
    if (!roi.IsUndefined() && !roi.IsNull()) {
      if (!roi.IsObject()) throw Napi::TypeError::New(env, what + "roi must be { x, y, width, height }");
      Napi::Object r = roi.As<Napi::Object>();
      f.hasRoi = true;
      f.roiX = frameInt(env, r, "x", -1, what + "roi.");
      f.roiY = frameInt(env, r, "y", -1, what + "roi.");
      f.roiW = frameInt(env, r, "width", 0, what + "roi.");
      f.roiH = frameInt(env, r, "height", 0, what + "roi.");
    }
    if (keep) keep->push_back(Napi::Persistent(bytes.As<Napi::Object>()));
    out.push_back(f);
  }
  return out;
}

/** options.mean / options.std: three finite numbers each (RGB). */
inline void readTriple(Napi::Env env, Napi::Object o, const char* name, const std::string& where, double out[3]) {
  Napi::Value v = o.Get(name);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) {
    throw Napi::TypeError::New(env, where + ": " + name + " must be an array of 3 numbers (RGB)");
  }
  for (uint32_t c = 0; c < 3; c++) {
    Napi::Value e = v.As<Napi::Array>().Get(c);
    if (!e.IsNumber()) throw Napi::TypeError::New(env, where + ": " + name + " must be an array of 3 numbers (RGB)");
    out[c] = e.As<Napi::Number>().DoubleValue();
  }
}

}  // namespace ntrt
