// The JS TensorRtEngine object over an EngineState (session.cpp), for the open worker.
#pragma once
#include <napi.h>

#include <memory>

#include "trt/engine_state.h"

namespace ntrt::trt {

/** A new TensorRtEngine JS object holding `state`. */
Napi::Object wrapEngineState(Napi::Env env, std::shared_ptr<EngineState> state);

}  // namespace ntrt::trt
