// Small shared pieces of the addon: build facts and the module's exported functions.
#pragma once
#include <napi.h>
#include <string>

namespace ntrt {

// Each file registers its own functions on the module's exports.
void registerCudaInfo(Napi::Env env, Napi::Object exports);
void registerTrtLibrary(Napi::Env env, Napi::Object exports);
void registerTrtSession(Napi::Env env, Napi::Object exports);
void registerHsf(Napi::Env env, Napi::Object exports);
void registerHsfCpu(Napi::Env env, Napi::Object exports);
void registerPreprocess(Napi::Env env, Napi::Object exports);
void registerPreprocessCpu(Napi::Env env, Napi::Object exports);

/** A CUDA error as "cudaErrorNoDevice (100): no CUDA-capable device is detected". */
std::string cudaErrorText(int code);

}  // namespace ntrt
