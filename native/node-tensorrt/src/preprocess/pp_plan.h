// A batch of camera frames for the preprocessing kernels (pp_kernels.cuh): each frame checked, its
// PIL bicubic tap tables computed, and its bytes and intermediate image placed in the batch's
// buffers. Shared by the GPU runner (pp_cuda.cu) and its host build (pp_host.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preprocess/pp_kernels.cuh"

namespace pp {

/** One frame as the caller hands it over: interleaved uint8 rows, and the camera's view of it. */
struct FrameInput {
  const uint8_t* data = nullptr;
  size_t bytes = 0;  // what `data` holds
  int width = 0, height = 0, stride = 0, channels = 3;
  bool bgr = true;
  int rotate = 0;
  bool hasRoi = false;
  int roiX = 0, roiY = 0, roiW = 0, roiH = 0;  // upright pixels; the whole upright frame without hasRoi
};

struct BatchPlan {
  int size = 0;  // S
  std::vector<FrameDesc> frames;
  std::vector<int32_t> tables;  // every frame's two tap tables
  size_t srcBytes = 0;          // the frames' bytes, one after the other
  size_t tempBytes = 0;         // the intermediate images
  float mean[3], std[3];        // float32, RGB order
};

/**
 * PIL's precompute_coeffs + normalize_coeffs_8bpc for the bicubic filter (as bicubicAxis of
 * src/preprocess/pil-resample.ts), appended to `table` as ksize, start[out], count[out],
 * coeffs[out * ksize]. Returns the table's offset.
 */
int32_t appendBicubicTaps(int inSize, int outSize, std::vector<int32_t>* table);

/** Checks every frame and lays out the batch; false and *error naming the frame and the problem. */
bool makePlan(const std::vector<FrameInput>& frames, int size, const double mean[3], const double std[3],
              BatchPlan* plan, std::string* error);

/** Copies the frames' bytes into `dst` (plan.srcBytes) at the offsets of the plan. */
void packSources(const std::vector<FrameInput>& frames, const BatchPlan& plan, uint8_t* dst);

}  // namespace pp
