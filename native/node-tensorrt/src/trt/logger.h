// TensorRT's logger and runtime for the session code. Errors of the calling thread are collected so
// that a failed call can report them; the last warnings are kept for tensorRtLog().
#pragma once
#include <NvInferRuntime.h>

#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace ntrt::trt {

class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override {
    if (severity <= Severity::kERROR) threadErrors().emplace_back(msg);
    if (severity <= Severity::kWARNING) {
      std::lock_guard<std::mutex> lock(mutex_);
      recent_.emplace_back(std::string(severity <= Severity::kERROR ? "error: " : "warning: ") + msg);
      if (recent_.size() > 100) recent_.pop_front();
    }
  }
  static std::vector<std::string>& threadErrors() {
    thread_local std::vector<std::string> errors;
    return errors;
  }
  std::vector<std::string> drain() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out(recent_.begin(), recent_.end());
    recent_.clear();
    return out;
  }

 private:
  std::mutex mutex_;
  std::deque<std::string> recent_;
};

/** The one logger of the addon (never destroyed: TensorRT may log during exit). */
Logger& logger();

/** "what: <TensorRT errors logged since the scope began>" */
class ErrorScope {
 public:
  ErrorScope() { Logger::threadErrors().clear(); }
  std::string message(const std::string& what) const {
    std::string out = what;
    for (const auto& e : Logger::threadErrors()) out += (out == what ? ": " : "; ") + e;
    return out;
  }
};

/** The one IRuntime (libnvinfer loaded on first use); nullptr and *error when it cannot be made. */
nvinfer1::IRuntime* runtime(std::string* error);

}  // namespace ntrt::trt
