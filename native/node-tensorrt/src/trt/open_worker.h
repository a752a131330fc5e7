// openEngine(path, {contexts, plugins, device}) -> Promise<Engine>: reads and deserialises the
// engine, lists its IO tensors and creates the execution contexts, on the libuv thread pool.
#pragma once
#include <napi.h>

#include <string>

namespace ntrt::trt {

/** Queues the open on the thread pool; the promise resolves to a TensorRtEngine JS object. */
Napi::Promise openEngineAsync(Napi::Env env, std::string path, int contexts, bool plugins, int device);

}  // namespace ntrt::trt
