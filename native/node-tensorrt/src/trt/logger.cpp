// The logger instance and the runtime (see logger.h).
#include "trt/logger.h"

#include "trt_library.h"

namespace ntrt::trt {

Logger& logger() {
  static Logger* instance = new Logger();  // never destroyed: TensorRT may log during exit
  return *instance;
}

// The runtime outlives every engine, so it is created once and never destroyed.
nvinfer1::IRuntime* runtime(std::string* error) {
  static std::mutex mutex;
  static nvinfer1::IRuntime* instance = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (instance) return instance;
  const TrtLibrary* lib = loadTrtLibrary(error);
  if (!lib) return nullptr;
  ErrorScope scope;
  instance = static_cast<nvinfer1::IRuntime*>(lib->createInferRuntime(&logger(), NV_TENSORRT_VERSION));
  if (!instance) *error = scope.message("createInferRuntime failed");
  return instance;
}

}  // namespace ntrt::trt
