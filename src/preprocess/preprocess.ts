// The official AdaCLIP preprocessing for camera frames: (rotate, crop ROI with OpenCV) -> RGB ->
// PIL bicubic resize to S x S (aspect not kept) -> /255 -> CLIP normalisation -> float32 CHW.
// Output is identical to torchvision's Resize((S,S), BICUBIC) + ToTensor + Normalize on a PIL image.
import type { Mat } from '@u4/opencv4nodejs';
import { loadOpenCV } from '../util/opencv.js';
import { CLIP_MEAN, CLIP_STD, normalizeTable, normalizeToPlanar, type Triple } from './normalize.js';
import { hasNativePreprocess, loadPreprocessCpuBinding, NativePreprocessKernel } from './native-kernel.js';
import { BicubicResizer, type Image3 } from './pil-resample.js';
import { hasWasmSimd, SimdPreprocessKernel } from './wasm/simd-preprocess.js';
import type { Rect, Rotation } from '../geometry/map-to-frame.js';
import type { ImageSource, ImageTensor } from './tensor.js';

export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

export interface PreprocessOptions {
  /** Model input size S. */
  size: number;
  /** Per-channel RGB mean and std; the OpenAI CLIP values when left out. */
  mean?: Triple;
  std?: Triple;
  /**
   * 'native' (default where the node-tensorrt addon is built): its AVX2/NEON kernels; 'simd'
   * (default elsewhere, where WebAssembly SIMD runs): the WebAssembly kernels; 'reference': the
   * plain TypeScript port of PIL. All give identical tensors.
   */
  kernel?: PreprocessKernelName;
  /**
   * Threads sharing each frame with the native or SIMD kernel (this one included; default 1). More
   * threads cut the time per frame on multi-core machines; the caller still blocks until the frame
   * is done.
   */
  threads?: number;
}

/** Per-camera view of the frame: clockwise rotation first, then the ROI in upright pixels. */
export interface FrameView {
  roi?: Rect;
  rotate?: Rotation;
}

export type PreprocessKernelName = 'native' | 'simd' | 'reference';

/** The kernel a Preprocessor uses by default here: native, else WebAssembly SIMD, else the reference. */
export function defaultPreprocessKernel(): PreprocessKernelName {
  if (hasNativePreprocess()) return 'native';
  return hasWasmSimd() ? 'simd' : 'reference';
}

/** For doctor and logs: which CPU preprocessing runs here, in words. */
export function describeCpuPreprocessing(): string {
  const kernel = defaultPreprocessKernel();
  if (kernel === 'native') return `native ${loadPreprocessCpuBinding().kernel} (node-tensorrt)`;
  return kernel === 'simd' ? 'WebAssembly SIMD' : 'TypeScript reference';
}

/** Distinct frame sizes whose resampling tables and scratch a Preprocessor keeps. */
const MAX_RESIZERS = 8;

type Kernel = BicubicResizer | SimdPreprocessKernel | NativePreprocessKernel;
/** The kernels that own their input bytes (filled by OpenCV's copyTo). */
type OwnInput = SimdPreprocessKernel | NativePreprocessKernel;

/**
 * Preprocesses frames for one model input size and normalisation. Keeps the resampling tables and
 * scratch per frame size, so steady-state frames allocate only what OpenCV hands back. One instance
 * per thread of use (it reuses its scratch).
 */
export class Preprocessor {
  readonly size: number;
  readonly kernel: PreprocessKernelName;
  readonly threads: number;
  private readonly lut: Float32Array;
  private readonly mean: number[];
  private readonly std: number[];
  private readonly resizers = new Map<string, Kernel>();
  private readonly inputMats = new WeakMap<OwnInput, Mat>();

  constructor(opts: PreprocessOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > 8192) {
      throw new PreprocessError(`preprocess: size must be an integer in 1..8192, got ${opts.size}`);
    }
    this.size = opts.size;
    this.lut = normalizeTable(opts.mean ?? CLIP_MEAN, opts.std ?? CLIP_STD);
    this.mean = [...(opts.mean ?? CLIP_MEAN)];
    this.std = [...(opts.std ?? CLIP_STD)];
    this.kernel = opts.kernel ?? defaultPreprocessKernel();
    if (!['native', 'simd', 'reference'].includes(this.kernel)) {
      throw new PreprocessError(
        `preprocess: kernel must be "native", "simd" or "reference", got ${String(opts.kernel)}`,
      );
    }
    this.threads = opts.threads ?? 1;
    if (!Number.isInteger(this.threads) || this.threads < 1 || this.threads > 64) {
      throw new PreprocessError(`preprocess: threads must be an integer in 1..64, got ${opts.threads}`);
    }
    if (this.kernel === 'simd' && !hasWasmSimd()) {
      throw new PreprocessError(
        'preprocess: WebAssembly SIMD is not available in this runtime (use kernel "reference")',
      );
    }
    if (this.kernel === 'native') {
      try {
        loadPreprocessCpuBinding();
      } catch (err) {
        throw new PreprocessError(
          `preprocess: the native kernel is not available: ${(err as Error).message}`,
        );
      }
    }
  }

  /** Floats one image takes in a batch: 3 * S * S. */
  get imageLength(): number {
    return 3 * this.size * this.size;
  }

  /** A BGR (or grey) uint8 OpenCV Mat -> a new tensor. */
  frame(image: Mat, view: FrameView = {}): ImageTensor {
    const data = new Float32Array(this.imageLength);
    const source = this.frameInto(image, data, 0, view);
    return { data, size: this.size, source };
  }

  /** A BGR (or grey) uint8 OpenCV Mat -> float32 [3,S,S] written into `out` from float index `offset`. */
  frameInto(image: Mat, out: Float32Array, offset: number, view: FrameView = {}): ImageSource {
    this.checkOut(out, offset);
    const cv = loadOpenCV();
    checkMat(image, cv);
    const source = sourceOf(image.cols, image.rows, view);
    let mat = image;
    const rect = capturedRect(source);
    const whole = rect.width === image.cols && rect.height === image.rows;
    if (!whole) mat = mat.getRegion(new cv.Rect(rect.x, rect.y, rect.width, rect.height));
    if (source.rotate !== 0) mat = mat.rotate(rotateCodes(cv)[source.rotate]);
    if (mat.channels === 1) mat = mat.cvtColor(cv.COLOR_GRAY2BGR);
    const r = this.resizer(mat.cols, mat.rows);
    if (r instanceof NativePreprocessKernel) {
      // OpenCV copies the frame (or the ROI) straight into the kernel's buffer: one copy, no getData
      mat.copyTo(this.inputMat(r, cv));
      r.compute(true, out, offset);
    } else if (r instanceof SimdPreprocessKernel) {
      mat.copyTo(this.inputMat(r, cv));
      r.compute(true, this.mean, this.std, out, offset);
    } else {
      if (mat !== image && mat.channels === 3 && source.rotate === 0) mat = mat.copy(); // getData refuses a region view
      const data = mat.getData();
      normalizeToPlanar(
        r.resize({ data, width: mat.cols, height: mat.rows, stride: mat.cols * 3, offset: 0 }),
        this.lut,
        true,
        out,
        offset,
      );
    }
    return source;
  }

  /** Interleaved RGB uint8 bytes [height, width, 3] -> a new tensor. */
  rgb(data: Uint8Array, width: number, height: number, view: FrameView = {}): ImageTensor {
    const out = new Float32Array(this.imageLength);
    const source = this.rgbInto(data, width, height, out, 0, view);
    return { data: out, size: this.size, source };
  }

  /** Interleaved RGB uint8 bytes [height, width, 3] -> float32 [3,S,S] into `out` at `offset`. */
  rgbInto(
    data: Uint8Array,
    width: number,
    height: number,
    out: Float32Array,
    offset: number,
    view: FrameView = {},
  ): ImageSource {
    this.checkOut(out, offset);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new PreprocessError(`preprocess: image size must be positive integers, got ${width}x${height}`);
    }
    if (data.length !== width * height * 3) {
      throw new PreprocessError(
        `preprocess: RGB image of ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`,
      );
    }
    const source = sourceOf(width, height, view);
    if (source.rotate !== 0) {
      // rotation goes through OpenCV, like frames do
      const cv = loadOpenCV();
      const mat = new cv.Mat(
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        height,
        width,
        cv.CV_8UC3,
      );
      const rect = capturedRect(source);
      const rotated = mat
        .getRegion(new cv.Rect(rect.x, rect.y, rect.width, rect.height))
        .rotate(rotateCodes(cv)[source.rotate]);
      const bytes = rotated.getData();
      this.resizeInto(
        { data: bytes, width: rotated.cols, height: rotated.rows, stride: rotated.cols * 3, offset: 0 },
        false,
        out,
        offset,
      );
    } else {
      // a crop of packed rows is just an offset and a stride: no copy
      const { roi } = source;
      const image: Image3 = {
        data,
        width: roi.width,
        height: roi.height,
        stride: width * 3,
        offset: (roi.y * width + roi.x) * 3,
      };
      this.resizeInto(image, false, out, offset);
    }
    return source;
  }

  /** A Mat header over the kernel's input bytes (no copy), made once per kernel. */
  private inputMat(kernel: OwnInput, cv: ReturnType<typeof loadOpenCV>): Mat {
    let m = this.inputMats.get(kernel);
    if (!m) {
      const bytes = kernel.input;
      const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      m = new cv.Mat(kernel.inHeight, kernel.inWidth, cv.CV_8UC3, view);
      this.inputMats.set(kernel, m);
    }
    return m;
  }

  private resizeInto(image: Image3, bgr: boolean, out: Float32Array, offset: number): void {
    const r = this.resizer(image.width, image.height);
    if (r instanceof NativePreprocessKernel) {
      r.run(image, bgr, out, offset);
    } else if (r instanceof SimdPreprocessKernel) {
      r.run(image, bgr, this.mean, this.std, out, offset);
    } else {
      normalizeToPlanar(r.resize(image), this.lut, bgr, out, offset);
    }
  }

  private resizer(width: number, height: number): Kernel {
    const key = `${width}x${height}`;
    let r = this.resizers.get(key);
    if (r) {
      // most recently used last, so the oldest entry is evicted first
      this.resizers.delete(key);
    } else {
      r = this.newKernel(width, height);
      if (this.resizers.size >= MAX_RESIZERS) {
        const oldest = this.resizers.keys().next().value as string;
        const evicted = this.resizers.get(oldest);
        if (!(evicted instanceof BicubicResizer)) evicted?.close();
        this.resizers.delete(oldest);
      }
    }
    this.resizers.set(key, r);
    return r;
  }

  private newKernel(width: number, height: number): Kernel {
    switch (this.kernel) {
      case 'native':
        return new NativePreprocessKernel(width, height, this.size, this.mean, this.std, this.threads);
      case 'simd':
        return new SimdPreprocessKernel(width, height, this.size, this.threads);
      default:
        return new BicubicResizer(width, height, this.size, this.size);
    }
  }

  /** Stops the worker threads of every cached kernel (only needed with threads > 1). */
  close(): void {
    for (const r of this.resizers.values()) if (!(r instanceof BicubicResizer)) r.close();
    this.resizers.clear();
  }

  private checkOut(out: Float32Array, offset: number): void {
    if (!(out instanceof Float32Array))
      throw new PreprocessError('preprocess: output must be a Float32Array');
    if (!Number.isInteger(offset) || offset < 0 || offset + this.imageLength > out.length) {
      throw new PreprocessError(
        `preprocess: output of ${out.length} floats cannot take an image of ${this.imageLength} at offset ${offset}`,
      );
    }
  }
}

function rotateCodes(cv: ReturnType<typeof loadOpenCV>): Record<90 | 180 | 270, number> {
  return { 90: cv.ROTATE_90_CLOCKWISE, 180: cv.ROTATE_180, 270: cv.ROTATE_90_COUNTERCLOCKWISE };
}

function checkMat(image: Mat, cv: ReturnType<typeof loadOpenCV>): void {
  if (!(image instanceof cv.Mat))
    throw new PreprocessError(`preprocess: frame is not an OpenCV Mat (got ${typeof image})`);
  if (image.empty || image.rows < 1 || image.cols < 1)
    throw new PreprocessError('preprocess: frame is an empty Mat');
  if (image.depth !== cv.CV_8U) {
    throw new PreprocessError(
      `preprocess: frame must be 8-bit (CV_8U), got depth ${depthName(image.depth, cv)}`,
    );
  }
  if (image.channels !== 3 && image.channels !== 1) {
    throw new PreprocessError(
      `preprocess: frame must have 3 (BGR) or 1 (grey) channels, got ${image.channels}`,
    );
  }
}

function depthName(depth: number, cv: ReturnType<typeof loadOpenCV>): string {
  const names: Record<number, string> = {
    [cv.CV_8U]: 'CV_8U',
    [cv.CV_8S]: 'CV_8S',
    [cv.CV_16U]: 'CV_16U',
    [cv.CV_16S]: 'CV_16S',
    [cv.CV_32S]: 'CV_32S',
    [cv.CV_32F]: 'CV_32F',
    [cv.CV_64F]: 'CV_64F',
  };
  return names[depth] ?? String(depth);
}

/** Validates the view against a captured frame of width x height. */
export function sourceOf(width: number, height: number, view: FrameView): ImageSource {
  const rotate = view.rotate ?? 0;
  if (rotate !== 0 && rotate !== 90 && rotate !== 180 && rotate !== 270) {
    throw new PreprocessError(`preprocess: rotate must be 0, 90, 180 or 270, got ${String(rotate)}`);
  }
  const upW = rotate === 90 || rotate === 270 ? height : width;
  const upH = rotate === 90 || rotate === 270 ? width : height;
  const roi = view.roi ?? { x: 0, y: 0, width: upW, height: upH };
  const { x, y, width: w, height: h } = roi;
  if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1) {
    throw new PreprocessError(
      `preprocess: ROI must have integer x, y >= 0 and width, height >= 1, got ${JSON.stringify(roi)}`,
    );
  }
  if (x + w > upW || y + h > upH) {
    throw new PreprocessError(
      `preprocess: ROI ${JSON.stringify(roi)} lies outside the ${upW}x${upH} frame` +
        (rotate ? ` (${width}x${height} rotated by ${rotate})` : ''),
    );
  }
  return { width, height, rotate, roi: { x, y, width: w, height: h } };
}

/** The rectangle of the captured frame that becomes the upright ROI once rotated. */
export function capturedRect(src: ImageSource): Rect {
  const { x, y, width: w, height: h } = src.roi;
  switch (src.rotate) {
    case 90: // captured (cx, cy) -> upright (H-1-cy, cx)
      return { x: y, y: src.height - x - w, width: h, height: w };
    case 180:
      return { x: src.width - x - w, y: src.height - y - h, width: w, height: h };
    case 270: // captured (cx, cy) -> upright (cy, W-1-cx)
      return { x: src.width - y - h, y: x, width: h, height: w };
    default:
      return { x, y, width: w, height: h };
  }
}

const shared = new Map<string, Preprocessor>();

/** One frame with a Preprocessor cached per (size, mean, std). */
export function preprocessFrame(image: Mat, opts: PreprocessOptions & FrameView): ImageTensor {
  const key = JSON.stringify([opts.size, opts.mean ?? CLIP_MEAN, opts.std ?? CLIP_STD]);
  let p = shared.get(key);
  if (!p) {
    p = new Preprocessor(opts);
    shared.set(key, p);
  }
  return p.frame(image, { roi: opts.roi, rotate: opts.rotate });
}
