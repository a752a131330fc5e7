import type { Rect, Rotation } from '../geometry/map-to-frame.js';

/**
 * Where a tensor came from, to map regions back to frame pixels: the captured frame (before
 * rotation), the rotation, and the crop of the rotated (upright) frame that was resized. A MapSource
 * (geometry/map-to-frame.ts) with the rotation always given.
 */
export interface ImageSource {
  width: number;
  height: number;
  rotate: Rotation;
  /** In upright (rotated) frame pixels; the whole upright frame when no ROI is set. */
  roi: Rect;
}

/** One frame as node-tensorrt's preprocessing kernels take it: interleaved uint8 rows, the view. */
export interface DeviceFrame {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes between rows (default width * channels). */
  stride?: number;
  /** 3 (default) or 1 (grey). */
  channels?: 1 | 3;
  /** The 3 channels are B,G,R (OpenCV; default) rather than R,G,B. */
  bgr?: boolean;
  rotate?: Rotation;
  roi?: Rect;
}

/** One preprocessed image as the engine wants it: float32 CHW, RGB, normalised. */
export interface ImageTensor {
  /** float32 [3,S,S]; empty when `frame` is set */
  data: Float32Array;
  size: number;
  source: ImageSource;
  /** The frame itself, when the engine preprocesses on the GPU (src/preprocess/device.ts). */
  frame?: DeviceFrame;
}
