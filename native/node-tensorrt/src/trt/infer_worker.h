// infer(inputs, {keepOnDevice, hsf}) -> Promise<{outputs, hsf?}>: one run on an idle execution
// context, on the libuv thread pool. Inputs are checked against the engine's profile, converted into
// pinned memory and copied to the device; enqueueV3; HSF (when asked) on the device outputs on the
// same stream; only the outputs that leave the engine come back.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "hsf_device.h"
#include "trt/engine_state.h"
#include "trt/host_io.h"

namespace ntrt::trt {

/** Queues the run on the thread pool; the caller has checked the argument types. */
Napi::Promise inferAsync(Napi::Env env, std::shared_ptr<EngineState> state, std::vector<HostInput> inputs,
                         std::unordered_set<std::string> deviceOnly, bool runHsf, HsfDeviceRequest hsf);

}  // namespace ntrt::trt
