// Preprocessing on the GPU (kernels in pp_cuda.cu over pp_kernels.cuh): a batch of camera frames into
// a [B,3,S,S] float32 or float16 tensor in device memory, the engine's input buffer itself.
#pragma once
#include <string>
#include <vector>

#include "preprocess/pp_plan.h"

namespace pp {

/** Buffers of one call site (a TensorRT execution context, or the standalone runner), grown and reused. */
struct DeviceScratch;
DeviceScratch* newDeviceScratch();
void freeDeviceScratch(DeviceScratch* s);

/**
 * Stages the frames, their descriptors and tap tables in pinned memory and runs both passes on
 * `stream` (a cudaStream_t), writing to dOut (device memory). On an integrated GPU (Jetson: CPU and
 * GPU share the memory) the kernels read the pinned staging in place; elsewhere it is copied to the
 * device first. Asynchronous: the frames may be released when it returns, but `scratch` may be
 * reused only after the stream has finished this work.
 */
bool runOnDevice(const std::vector<FrameInput>& frames, const BatchPlan& plan, DeviceScratch* scratch, void* stream,
                 bool half, void* dOut, std::string* error);

/** True when the current device is integrated (the kernels then read host memory in place). */
bool currentDeviceIsIntegrated();

}  // namespace pp
