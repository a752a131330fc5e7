// Runs the SIMD kernels for one frame geometry: owns a WebAssembly memory holding the frame copy,
// the tap tables (built from the same bicubicAxis as the reference path), the intermediate planes
// and the output tensor, so steady-state frames allocate nothing.
import { bicubicAxis, type Image3, type ResampleAxis } from '../pil-resample.js';
import { wasm, type WasmMemory } from './asm.js';
import { KernelThreads } from './kernel-threads.js';
import { kernelModule, type KernelGeometry } from './kernels.js';

export { hasWasmSimd } from './asm.js';

/** Slack after each region: the kernels read (and the vertical pass writes) up to 15 bytes/floats past. */
const PAD = 128;
const align = (n: number): number => Math.ceil(n / 16) * 16;

interface Kernels {
  horizontal(
    src: number,
    rows: number,
    dst0: number,
    dst1: number,
    dst2: number,
    starts: number,
    coefs: number,
  ): void;
  vertical(
    plane: number,
    starts: number,
    coefs: number,
    out: number,
    rows: number,
    mean: number,
    std: number,
  ): void;
}

/** PIL-bicubic resize of an inWidth x inHeight 3-channel frame to S x S + CLIP normalisation. */
export class SimdPreprocessKernel {
  private readonly kernels: Kernels;
  private readonly memory: WasmMemory;
  private readonly bytes: Uint8Array;
  private readonly floats: Float32Array;
  private readonly firstRow: number;
  private readonly rows: number;
  private readonly at: {
    src: number;
    planes: number;
    out: number;
    hStarts: number;
    hCoefs: number;
    vStarts: number;
    vCoefs: number;
  };
  private readonly planeBytes: number;
  private readonly planeStride: number;
  private readonly vtaps: number;
  private readonly outStride: number;
  private readonly threads: KernelThreads | undefined;

  /** `threads` > 1 splits each frame's rows over that many threads (this one included). */
  constructor(
    readonly inWidth: number,
    readonly inHeight: number,
    readonly size: number,
    threads = 1,
  ) {
    const h = bicubicAxis(inWidth, size);
    const v = bicubicAxis(inHeight, size);
    this.firstRow = v.start[0];
    this.rows = v.start[size - 1] + v.count[size - 1] - this.firstRow;
    const quads = Math.ceil(Math.max(...h.count) / 4);
    const vtaps = Math.max(...v.count);
    const planeStride = align(size);
    const geometry: KernelGeometry = {
      srcStride: inWidth * 3,
      outSize: size,
      quads,
      vtaps,
      planeStride,
      chunks: planeStride / 16,
      outStride: threads > 1 ? planeStride : size,
    };
    this.outStride = geometry.outStride;
    this.planeBytes = planeStride * this.rows + PAD;
    this.planeStride = planeStride;
    this.vtaps = vtaps;
    const sizes = {
      src: inWidth * inHeight * 3,
      planes: 3 * this.planeBytes,
      out: 3 * size * geometry.outStride * 4,
      hStarts: size * 4,
      hCoefs: size * quads * 64,
      vStarts: size * 4,
      vCoefs: size * vtaps * 16,
    };
    let end = 0;
    const at = {} as Record<keyof typeof sizes, number>;
    for (const [name, n] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
      at[name] = end;
      end = align(end + n + PAD);
    }
    this.at = at;
    const pages = Math.ceil(end / 65536);
    const shared = threads > 1;
    this.memory = new wasm.Memory(shared ? { initial: pages, maximum: pages, shared } : { initial: pages });
    this.bytes = new Uint8Array(this.memory.buffer);
    this.floats = new Float32Array(this.memory.buffer);
    const module = kernelModule(geometry, shared ? pages : undefined);
    const instance = new wasm.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as Kernels;
    this.threads = shared ? new KernelThreads(module, this.memory, threads - 1) : undefined;
    this.writeHorizontalTaps(h, quads);
    this.writeVerticalTaps(v, vtaps, planeStride);
  }

  // Per output pixel: byte offset of its window, then per quad of taps two i16x8 vectors (low 15
  // bits of each coefficient, then the rest), each coefficient repeated for the 3 channels.
  private writeHorizontalTaps(h: ResampleAxis, quads: number): void {
    const dv = new DataView(this.memory.buffer);
    for (let x = 0; x < this.size; x++) {
      dv.setInt32(this.at.hStarts + x * 4, h.start[x] * 3, true);
      for (let q = 0; q < quads; q++) {
        for (let half = 0; half < 2; half++) {
          const base = this.at.hCoefs + x * quads * 64 + (q * 2 + half) * 32;
          for (let t = 0; t < 2; t++) {
            const tap = q * 4 + half * 2 + t;
            const k = tap < h.count[x] ? h.coeffs[x * h.ksize + tap] : 0;
            for (let c = 0; c < 3; c++) {
              dv.setInt16(base + (c * 2 + t) * 2, k & 0x7fff, true);
              dv.setInt16(base + 16 + (c * 2 + t) * 2, k >> 15, true);
            }
          }
        }
      }
    }
  }

  // Per output row: byte offset of its first source row within a plane, then vtaps i32x4 splats.
  private writeVerticalTaps(v: ResampleAxis, vtaps: number, planeStride: number): void {
    const dv = new DataView(this.memory.buffer);
    for (let y = 0; y < this.size; y++) {
      dv.setInt32(this.at.vStarts + y * 4, (v.start[y] - this.firstRow) * planeStride, true);
      for (let t = 0; t < vtaps; t++) {
        const k = t < v.count[y] ? v.coeffs[y * v.ksize + t] : 0;
        for (let lane = 0; lane < 4; lane++)
          dv.setInt32(this.at.vCoefs + (y * vtaps + t) * 16 + lane * 4, k, true);
      }
    }
  }

  /**
   * The input frame's bytes inside this kernel's memory (packed rows, inWidth * 3 bytes each):
   * fill it (for example with OpenCV's copyTo through a Mat header over it), then call compute().
   * The view stays valid: the memory never grows.
   */
  get input(): Uint8Array {
    return this.bytes.subarray(this.at.src, this.at.src + this.inWidth * this.inHeight * 3);
  }

  /** Copies `src` into the input region. */
  load(src: Image3): void {
    if (src.width !== this.inWidth || src.height !== this.inHeight) {
      throw new Error(
        `SIMD preprocess: image is ${src.width}x${src.height}, kernel made for ${this.inWidth}x${this.inHeight}`,
      );
    }
    const rowBytes = this.inWidth * 3;
    const first = src.offset + this.firstRow * src.stride;
    const dst = this.at.src + this.firstRow * rowBytes;
    if (src.stride === rowBytes) {
      this.bytes.set(src.data.subarray(first, first + this.rows * rowBytes), dst);
    } else {
      for (let y = 0; y < this.rows; y++) {
        const from = first + y * src.stride;
        this.bytes.set(src.data.subarray(from, from + rowBytes), dst + y * rowBytes);
      }
    }
  }

  /**
   * Resizes the loaded input (3 interleaved channels, B,G,R when `bgr`, else R,G,B) and writes the
   * normalised float32 [3,S,S] RGB tensor to out[offset...]. mean/std are per RGB channel.
   */
  compute(
    bgr: boolean,
    mean: readonly number[],
    std: readonly number[],
    out: Float32Array,
    offset: number,
  ): void {
    const { at, size, planeStride, vtaps, threads, outStride } = this;
    const srcStride = this.inWidth * 3;
    const src = at.src + this.firstRow * srcStride;
    const planes = [0, 1, 2].map((c) => at.planes + c * this.planeBytes);
    // source lane k goes to RGB plane k, or 2 - k for BGR
    const [d0, d1, d2] = bgr ? [planes[2], planes[1], planes[0]] : planes;
    const outs = [0, 1, 2].map((c) => at.out + c * size * outStride * 4);
    const parts = (threads?.count ?? 0) + 1;
    const slice = (n: number, i: number): [number, number] => [
      Math.floor((n * i) / parts),
      Math.floor((n * (i + 1)) / parts),
    ];
    type H = Parameters<Kernels['horizontal']>;
    type V = Parameters<Kernels['vertical']>;
    const horizontal = ([y0, y1]: [number, number]): H => {
      const shift = y0 * planeStride;
      return [src + y0 * srcStride, y1 - y0, d0 + shift, d1 + shift, d2 + shift, at.hStarts, at.hCoefs];
    };
    const vertical = (c: number, [r0, r1]: [number, number]): V => [
      planes[c],
      at.vStarts + r0 * 4,
      at.vCoefs + r0 * vtaps * 16,
      outs[c] + r0 * outStride * 4,
      r1 - r0,
      mean[c],
      std[c],
    ];
    if (threads) {
      for (let i = 1; i < parts; i++) {
        const a = threads.args[i - 1];
        a[0] = 1;
        a.set(horizontal(slice(this.rows, i)), 1);
      }
      threads.run(() => this.kernels.horizontal(...horizontal(slice(this.rows, 0))));
      for (let i = 1; i < parts; i++) {
        const [a, f] = [threads.args[i - 1], threads.fargs[i - 1]];
        a[0] = 2;
        for (let c = 0; c < 3; c++) {
          const args = vertical(c, slice(size, i));
          a.set(args.slice(0, 5), 1 + c * 7);
          f[1 + c * 7 + 5] = args[5];
          f[1 + c * 7 + 6] = args[6];
        }
      }
      threads.run(() => {
        for (let c = 0; c < 3; c++) this.kernels.vertical(...vertical(c, slice(size, 0)));
      });
    } else {
      this.kernels.horizontal(...horizontal([0, this.rows]));
      for (let c = 0; c < 3; c++) this.kernels.vertical(...vertical(c, [0, size]));
    }
    const f32 = this.floats;
    if (outStride === size) {
      out.set(f32.subarray(at.out / 4, at.out / 4 + 3 * size * size), offset);
      return;
    }
    // padded output rows: copy the S meaningful floats of each
    for (let c = 0, o = offset; c < 3; c++) {
      for (let r = 0; r < size; r++, o += size) {
        const from = outs[c] / 4 + r * outStride;
        out.set(f32.subarray(from, from + size), o);
      }
    }
  }

  /** Stops the worker threads, if any. */
  close(): void {
    this.threads?.close();
  }

  run(
    src: Image3,
    bgr: boolean,
    mean: readonly number[],
    std: readonly number[],
    out: Float32Array,
    offset: number,
  ): void {
    this.load(src);
    this.compute(bgr, mean, std, out, offset);
  }
}
