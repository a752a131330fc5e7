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

/** One preprocessed image as the engine wants it: float32 CHW, RGB, normalised. */
export interface ImageTensor {
  /** float32 [3,S,S] */
  data: Float32Array;
  size: number;
  source: ImageSource;
}
