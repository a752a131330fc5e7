// Preprocessing on the GPU, for engines that run on TensorRT: the frame's bytes go to node-tensorrt
// as they are (uint8, with the camera's ROI and rotation), and its CUDA kernel writes the normalised
// tensor straight into the engine's input buffer (on a Jetson the kernel reads the frame in the
// shared memory, no host round trip). The kernel's arithmetic is the CPU path's (PIL-exact bicubic,
// torchvision's normalisation), checked bit for bit by its host build (`preprocess.host`).
import type { Mat } from '@u4/opencv4nodejs';
import { loadOpenCV } from '../util/opencv.js';
import { CLIP_MEAN, CLIP_STD, type Triple } from './normalize.js';
import { PreprocessError, sourceOf, type FrameView } from './preprocess.js';
import type { DeviceFrame, ImageTensor } from './tensor.js';

export interface DevicePreprocessOptions {
  size: number;
  mean: Triple;
  std: Triple;
  /** float16 output bits (Uint16Array) instead of float32. */
  half?: boolean;
}

/** The addon's `preprocess` object (native/node-tensorrt/src/pp_binding.cpp). */
export interface PreprocessBinding {
  available(): boolean;
  reason(): string;
  /** The kernels' arithmetic on the CPU (their host build): [B,3,S,S]. */
  host(frames: DeviceFrame[], opts: DevicePreprocessOptions): Float32Array | Uint16Array;
  /** The same on the GPU, copied back; gpuMs from CUDA events (staging copy + both passes). */
  device(
    frames: DeviceFrame[],
    opts: DevicePreprocessOptions,
  ): Promise<{ data: Float32Array | Uint16Array; gpuMs: number }>;
}

/**
 * The preprocess stage when the engine preprocesses on the GPU: checks the frame and its view as the
 * CPU path does (same errors), and hands the bytes on; no resizing happens here.
 */
export class DeviceFramePreparer {
  readonly mean: number[];
  readonly std: number[];

  constructor(
    readonly size: number,
    mean: Triple = CLIP_MEAN,
    std: Triple = CLIP_STD,
  ) {
    this.mean = [...mean];
    this.std = [...std];
  }

  /**
   * A BGR (or grey) uint8 OpenCV Mat and the camera's view -> a tensor whose `data` is empty and whose
   * `frame` holds a copy of the bytes (the pipeline may release the Mat before the engine runs).
   */
  tensor(image: Mat, view: FrameView = {}): ImageTensor {
    const cv = loadOpenCV();
    if (!(image instanceof cv.Mat))
      throw new PreprocessError(`preprocess: frame is not an OpenCV Mat (got ${typeof image})`);
    if (image.empty || image.depth !== cv.CV_8U || (image.channels !== 1 && image.channels !== 3)) {
      throw new PreprocessError(
        `preprocess: frame must be a non-empty 8-bit Mat with 1 or 3 channels (got ${image.cols}x${image.rows}, ` +
          `${image.channels} channels, depth ${image.depth})`,
      );
    }
    const source = sourceOf(image.cols, image.rows, view);
    const bytes = image.getData();
    const frame: DeviceFrame = {
      data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      width: image.cols,
      height: image.rows,
      channels: image.channels as 1 | 3,
      bgr: true,
      rotate: source.rotate,
      roi: source.roi,
    };
    return { data: new Float32Array(0), size: this.size, source, frame };
  }
}
