#include "trt_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "common.h"

#ifdef NTRT_HAVE_TENSORRT
#include <NvInferVersion.h>
#endif

namespace ntrt {
namespace {

constexpr const char* kDefaultLibrary = "libnvinfer.so.10";
constexpr const char* kDefaultPluginLibrary = "libnvinfer_plugin.so.10";

std::mutex gMutex;
std::unique_ptr<TrtLibrary> gLibrary;
bool gPluginsLoaded = false;

std::string dlError(const std::string& what) {
  const char* e = dlerror();
  return what + ": " + (e ? e : "unknown dlopen error");
}

}  // namespace

std::string trtVersionText(int32_t code) {
  const int32_t base = code >= 100000 ? 10000 : 1000;  // 10.3.0 = 100300; 8.6.1 = 8601
  const int32_t major = code / base;
  const int32_t minor = (code % base) / 100;
  const int32_t patch = code % 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

const TrtLibrary* loadTrtLibrary(std::string* error, const std::string& requested) {
  std::lock_guard<std::mutex> lock(gMutex);
  if (gLibrary) return gLibrary.get();
  std::string path = requested;
  if (path.empty()) {
    const char* env = std::getenv("NTRT_LIBNVINFER");  // override, e.g. a TensorRT tarball's lib/
    path = env && *env ? env : kDefaultLibrary;
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    *error = dlError("TensorRT is not available (cannot load " + path + ")");
    return nullptr;
  }
  auto getVersion = reinterpret_cast<int32_t (*)()>(dlsym(handle, "getInferLibVersion"));
  auto create = reinterpret_cast<void* (*)(void*, int32_t)>(dlsym(handle, "createInferRuntime_INTERNAL"));
  if (!getVersion || !create) {
    *error = path + " lacks getInferLibVersion/createInferRuntime_INTERNAL: not a TensorRT runtime library";
    dlclose(handle);
    return nullptr;
  }
  const int32_t code = getVersion();
  const std::string text = trtVersionText(code);
  if (code < 100000 || code >= 110000) {
    *error = path + " is TensorRT " + text + "; node-tensorrt needs TensorRT 10.x";
    dlclose(handle);
    return nullptr;
  }
#ifdef NTRT_HAVE_TENSORRT
  // The headers' inline wrappers call through versioned interfaces: an older library may lack the
  // entries the headers expect, so refuse it instead of crashing later.
  constexpr int32_t kHeaders = NV_TENSORRT_MAJOR * 10000 + NV_TENSORRT_MINOR * 100 + NV_TENSORRT_PATCH;
  if (code < kHeaders) {
    *error = path + " is TensorRT " + text + ", older than the headers node-tensorrt was built with (" +
             trtVersionText(kHeaders) + "): rebuild the addon against the installed TensorRT";
    dlclose(handle);
    return nullptr;
  }
#endif
  gLibrary = std::make_unique<TrtLibrary>(TrtLibrary{path, code, text, create});
  return gLibrary.get();
}

bool loadTrtPlugins(void* logger, std::string* error) {
  std::lock_guard<std::mutex> lock(gMutex);
  if (gPluginsLoaded) return true;
  const char* env = std::getenv("NTRT_LIBNVINFER_PLUGIN");
  const std::string path = env && *env ? env : kDefaultPluginLibrary;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);  // plugins register globally
  if (!handle) {
    *error = dlError("cannot load TensorRT plugins (" + path + ")");
    return false;
  }
  auto init = reinterpret_cast<bool (*)(void*, const char*)>(dlsym(handle, "initLibNvInferPlugins"));
  if (!init || !init(logger, "")) {
    *error = path + ": initLibNvInferPlugins failed";
    return false;
  }
  gPluginsLoaded = true;
  return true;
}

namespace {

Napi::Value LoadTensorRt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Value lib = info[0].As<Napi::Object>().Get("library");
    if (lib.IsString()) path = lib.As<Napi::String>().Utf8Value();
  }
  std::string error;
  const TrtLibrary* trt = loadTrtLibrary(&error, path);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", trt != nullptr);
  if (trt) {
    out.Set("version", trt->version);
    out.Set("versionCode", trt->versionCode);
    out.Set("library", trt->path);
  } else {
    out.Set("error", error);
  }
  return out;
}

}  // namespace

void registerTrtLibrary(Napi::Env env, Napi::Object exports) {
  exports.Set("loadTensorRt", Napi::Function::New(env, LoadTensorRt, "loadTensorRt"));
}

}  // namespace ntrt
