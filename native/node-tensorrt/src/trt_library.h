// libnvinfer loaded with dlopen at first use, so the addon itself never depends on TensorRT: a
// machine without it loads the addon and gets this file's error message instead.
#pragma once
#include <cstdint>
#include <string>

namespace ntrt {

struct TrtLibrary {
  std::string path;     // what dlopen was given
  int32_t versionCode;  // getInferLibVersion(): major*10000 + minor*100 + patch (TensorRT 10)
  std::string version;  // "10.3.0"
  void* (*createInferRuntime)(void* logger, int32_t version);
};

/** Loads libnvinfer once (later calls return the same result); nullptr and *error when it cannot. */
const TrtLibrary* loadTrtLibrary(std::string* error, const std::string& path = "");

/** Loads libnvinfer_plugin and registers its plugins with the logger; false and *error when it cannot. */
bool loadTrtPlugins(void* logger, std::string* error);

/** "10.3.0" from getInferLibVersion()'s code (10000-based since TensorRT 10, 1000-based before). */
std::string trtVersionText(int32_t code);

}  // namespace ntrt
