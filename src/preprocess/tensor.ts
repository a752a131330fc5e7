/** One preprocessed image as the engine wants it: float32 CHW, RGB, normalised. */
export interface ImageTensor {
  /** float32 [3,S,S] */
  data: Float32Array;
  size: number;
  /** Original frame size and the crop that was resized, to map regions back to frame pixels. */
  source: { width: number; height: number; roi: { x: number; y: number; width: number; height: number } };
}
