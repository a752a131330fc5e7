// See engine_state.h.
#include "trt/engine_state.h"

namespace ntrt::trt {

EngineState::~EngineState() {
  cudaSetDevice(device);
  for (auto& s : slots) {
    if (s->stream) cudaStreamSynchronize(s->stream);
    for (auto& kv : s->buffers) {
      if (kv.second.device) cudaFree(kv.second.device);
      if (kv.second.host) cudaFreeHost(kv.second.host);
    }
    if (s->preprocess) pp::freeDeviceScratch(s->preprocess);
    delete s->context;  // TensorRT 10: plain delete, destroy() is gone
    if (s->stream) cudaStreamDestroy(s->stream);
  }
  delete engine;
}

}  // namespace ntrt::trt
