// The native CPU preprocessing of the node-tensorrt addon (native/node-tensorrt/src/preprocess/
// pp_cpu.cpp): the PIL-exact bicubic resize and CLIP normalisation as banded separable passes with
// AVX2 or NEON row kernels. Bit-identical to pil-resample.ts + normalize.ts (tested against them,
// PIL and torchvision) and several times faster than the WebAssembly kernels, which remain the
// fallback where the addon is not built.
import { requireNodeTensorRtAddon } from '../util/node-tensorrt-addon.js';
import type { Image3 } from './pil-resample.js';

export interface NativeResizerOptions {
  width: number;
  height: number;
  size: number;
  mean: readonly number[];
  std: readonly number[];
  threads?: number;
  /** "avx2", "neon" or "portable"; the best this CPU runs when left out. */
  kernel?: string;
}

/** One frame geometry's resizer (the addon's preprocessCpu.Resizer). */
export interface NativeResizer {
  /** Reads the 3-channel image at src[offset...] (`stride` bytes per row); writes float32 [3,S,S]. */
  run(
    src: Uint8Array,
    offset: number,
    stride: number,
    bgr: boolean,
    out: Float32Array,
    outOffset: number,
  ): void;
  close(): void;
  readonly kernel: string | null;
  readonly threads: number | null;
}

/** The addon's `preprocessCpu` object (native/node-tensorrt/src/pp_cpu_binding.cpp). */
export interface PreprocessCpuBinding {
  /** The best kernel this CPU runs: "avx2", "neon" or "portable". */
  kernel: string;
  kernels: string[];
  Resizer: new (opts: NativeResizerOptions) => NativeResizer;
}

let loaded: { binding?: PreprocessCpuBinding; reason?: string } | undefined;

/** The binding, or an Error saying why not (not built, or an addon without it). */
export function loadPreprocessCpuBinding(): PreprocessCpuBinding {
  if (!loaded) {
    try {
      const addon = requireNodeTensorRtAddon<{ preprocessCpu?: PreprocessCpuBinding }>();
      loaded =
        addon.preprocessCpu && typeof addon.preprocessCpu.Resizer === 'function'
          ? { binding: addon.preprocessCpu }
          : {
              reason:
                'the node-tensorrt addon has no preprocessCpu binding (rebuild it: native/node-tensorrt/build.sh)',
            };
    } catch (err) {
      loaded = { reason: (err as Error).message };
    }
  }
  if (!loaded.binding) throw new Error(loaded.reason);
  return loaded.binding;
}

/** Whether the native kernels can run here. */
export function hasNativePreprocess(): boolean {
  try {
    loadPreprocessCpuBinding();
    return true;
  } catch {
    return false;
  }
}

/** Slack after the input bytes, so no reader of the buffer ever needs to care about its end. */
const INPUT_PAD = 64;

/** PIL-bicubic resize of an inWidth x inHeight 3-channel frame to S x S + normalisation, natively. */
export class NativePreprocessKernel {
  private readonly resizer: NativeResizer;
  private readonly bytes: Buffer;

  constructor(
    readonly inWidth: number,
    readonly inHeight: number,
    readonly size: number,
    mean: readonly number[],
    std: readonly number[],
    threads = 1,
    kernel?: string,
  ) {
    const { Resizer } = loadPreprocessCpuBinding();
    this.resizer = new Resizer({ width: inWidth, height: inHeight, size, mean, std, threads, kernel });
    this.bytes = Buffer.alloc(inWidth * inHeight * 3 + INPUT_PAD);
  }

  /** The row kernels in use ("avx2", "neon" or "portable"). */
  get kernel(): string {
    return this.resizer.kernel ?? 'closed';
  }

  /**
   * Packed input rows (inWidth * 3 bytes each) owned by this kernel: fill them (for example with
   * OpenCV's copyTo through a Mat header over them), then call compute().
   */
  get input(): Buffer {
    return this.bytes.subarray(0, this.inWidth * this.inHeight * 3);
  }

  /** Resizes the input (B,G,R when `bgr`, else R,G,B) into out[offset...] as float32 [3,S,S] RGB. */
  compute(bgr: boolean, out: Float32Array, offset: number): void {
    this.resizer.run(this.bytes, 0, this.inWidth * 3, bgr, out, offset);
  }

  /** Resizes `src` in place (a crop is its offset and stride: nothing is copied). */
  run(src: Image3, bgr: boolean, out: Float32Array, offset: number): void {
    if (src.width !== this.inWidth || src.height !== this.inHeight) {
      throw new Error(
        `native preprocess: image is ${src.width}x${src.height}, kernel made for ${this.inWidth}x${this.inHeight}`,
      );
    }
    this.resizer.run(src.data, src.offset, src.stride, bgr, out, offset);
  }

  /** Stops the helper threads, if any; the kernel is unusable afterwards. */
  close(): void {
    this.resizer.close();
  }
}
