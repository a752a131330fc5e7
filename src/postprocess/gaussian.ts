// scipy.ndimage.gaussian_filter(map, sigma) with scipy's defaults (mode='reflect', truncate=4.0),
// reproduced operation for operation so the smoothed map is bit-identical to the official one:
// - the kernel is exp((-0.5 / sigma^2) * x^2) in float64 (x^2 exact), divided by its numpy
//   (pairwise) sum, as scipy 1.10's _gaussian_kernel1d computes it;
// - axis 0 first, then axis 1; each pass accumulates in float64 in scipy's symmetric-kernel order
//   (centre * w0, then (left + right) * w_j from the outermost tap inwards) and stores float32,
//   because scipy writes both passes into a float32 output array.
// No npm package does this bit-exactly, hence the hand-written filter (plus a WebAssembly SIMD
// version of the same passes in gaussian-simd.ts).
import { hasWasmSimd } from '../preprocess/wasm/asm.js';
import { SimdGaussianPasses } from './gaussian-simd.js';

export interface GaussianOptions {
  sigma?: number;
  truncate?: number;
  /**
   * 'simd' (default where WebAssembly SIMD runs and the map is at least 2 wide): the SIMD passes;
   * 'reference': the plain TypeScript passes. Both give identical maps.
   */
  kernel?: 'simd' | 'reference';
}

const kernels = new Map<string, Float64Array>();

/** numpy's pairwise sum for n <= 128 (8 interleaved partial sums, then the tail). */
function numpySum(a: Float64Array): number {
  const n = a.length;
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i];
    return s;
  }
  if (n > 128) throw new Error(`gaussian kernel of ${n} taps: only up to 128 taps are supported`);
  const r = a.slice(0, 8);
  let i = 8;
  for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[i + j];
  let s = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
  for (; i < n; i++) s += a[i];
  return s;
}

/**
 * exp(x) correctly rounded, computed in 300-bit fixed point with BigInt. V8's Math.exp is off by one
 * ulp for some kernel taps (e.g. x = -1.5625), which would make the kernel differ from numpy's.
 * Runs once per kernel, so its cost does not matter.
 */
function expCorrectlyRounded(x: number): number {
  if (x === 0) return 1;
  if (!(x > -700 && x < 700)) return Math.exp(x);
  const bits = 300n;
  const one = 1n << bits;
  // x * 2^200 is exact (power-of-two scaling) and an integer for |x| >= 2^-147
  const fixed = BigInt(Math.round(x * 2 ** 200)) << (bits - 200n);
  // exp(x) = exp(x / 2^k)^(2^k) with |x / 2^k| < 2^-8 so the series converges fast
  const k = Math.max(0, Math.ceil(Math.log2(Math.abs(x))) + 8);
  const t = fixed >> BigInt(k);
  let sum = one;
  let term = one;
  for (let n = 1n; ; n++) {
    term = ((term * t) >> bits) / n;
    if (term === 0n) break;
    sum += term;
  }
  for (let i = 0; i < k; i++) sum = (sum * sum) >> bits;
  // Number(bigint) rounds to nearest; the power-of-two scaling after it is exact
  return Number(sum) * 2 ** -300;
}

/** scipy's _gaussian_kernel1d(sigma, 0, radius) with radius = int(truncate * sigma + 0.5). */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma))
    throw new Error(`gaussian sigma must be a positive number, got ${sigma}`);
  if (!(truncate > 0) || !Number.isFinite(truncate)) {
    throw new Error(`gaussian truncate must be a positive number, got ${truncate}`);
  }
  const key = `${sigma}/${truncate}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const radius = Math.trunc(truncate * sigma + 0.5);
  const c = -0.5 / (sigma * sigma);
  const w = new Float64Array(2 * radius + 1);
  for (let i = 0; i < w.length; i++) {
    const x = i - radius;
    w[i] = expCorrectlyRounded(c * (x * x));
  }
  const sum = numpySum(w);
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  kernels.set(key, w);
  return w;
}

/** Index into [0, n) of position i under mode 'reflect' (d c b a | a b c d | d c b a), any distance. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/**
 * A gaussian filter for one map size, owning its scratch buffers so that run() allocates nothing.
 * Not reentrant: one instance per concurrent user.
 */
export class GaussianFilter {
  readonly weights: Float64Array;
  readonly radius: number;
  readonly kernel: 'simd' | 'reference';
  private readonly simd: SimdGaussianPasses | undefined;
  private readonly tmp: Float32Array;
  private readonly acc: Float64Array;
  private readonly line: Float64Array;
  /** Source row / column of each padded index (reflect mode), for the two passes. */
  private readonly rowIndex: Int32Array;
  private readonly colIndex: Int32Array;

  constructor(
    readonly height: number,
    readonly width: number,
    opts: GaussianOptions = {},
  ) {
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
      throw new Error(`gaussian filter: map size must be positive integers, got ${height}x${width}`);
    }
    this.weights = gaussianKernel1d(opts.sigma ?? 4, opts.truncate ?? 4);
    this.radius = (this.weights.length - 1) / 2;
    const r = this.radius;
    this.rowIndex = new Int32Array(height + 2 * r);
    for (let i = 0; i < this.rowIndex.length; i++) this.rowIndex[i] = reflect(i - r, height);
    this.colIndex = new Int32Array(width + 2 * r);
    for (let i = 0; i < this.colIndex.length; i++) this.colIndex[i] = reflect(i - r, width);
    this.kernel = opts.kernel ?? (hasWasmSimd() && width >= 2 ? 'simd' : 'reference');
    if (this.kernel === 'simd' && !(hasWasmSimd() && width >= 2)) {
      throw new Error(
        `gaussian filter: the SIMD kernel needs WebAssembly SIMD and a width >= 2 (width ${width})`,
      );
    }
    // the TypeScript passes' scratch, empty when the SIMD passes run
    const scratch = this.kernel === 'simd' ? 0 : 1;
    this.tmp = new Float32Array(height * width * scratch);
    this.acc = new Float64Array(width * scratch);
    this.line = new Float64Array((width + 2 * r) * scratch);
    this.simd =
      this.kernel === 'simd'
        ? new SimdGaussianPasses(height, width, this.weights, this.rowIndex, this.colIndex)
        : undefined;
  }

  /** Smooths input (float32 [H,W], row-major) into out (may be input itself); returns out. */
  run(input: Float32Array, out: Float32Array = new Float32Array(this.height * this.width)): Float32Array {
    const { height: h, width: w } = this;
    if (input.length !== h * w) {
      throw new Error(`gaussian filter: input has ${input.length} values, expected ${h}x${w} = ${h * w}`);
    }
    if (out.length !== h * w) {
      throw new Error(`gaussian filter: output has ${out.length} values, expected ${h}x${w} = ${h * w}`);
    }
    if (this.simd) {
      this.simd.run(input, out);
      return out;
    }
    this.axis0(input, this.tmp);
    this.axis1(this.tmp, out);
    return out;
  }

  // Axis 0 row by row: the same per-element operation order as scipy's column lines, but the inner
  // loop runs along a row, which keeps memory access sequential.
  private axis0(src: Float32Array, dst: Float32Array): void {
    const { height: h, width: w, radius: r, weights, acc, rowIndex } = this;
    const w0 = weights[r];
    for (let y = 0; y < h; y++) {
      const centre = y * w;
      for (let x = 0; x < w; x++) acc[x] = src[centre + x] * w0;
      for (let j = r; j >= 1; j--) {
        const wj = weights[r - j];
        const above = rowIndex[y + r - j] * w;
        const below = rowIndex[y + r + j] * w;
        for (let x = 0; x < w; x++) acc[x] += (src[above + x] + src[below + x]) * wj;
      }
      for (let x = 0; x < w; x++) dst[centre + x] = acc[x];
    }
  }

  private axis1(src: Float32Array, dst: Float32Array): void {
    const { height: h, width: w, radius: r, weights, line, colIndex } = this;
    const w0 = weights[r];
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let i = 0; i < line.length; i++) line[i] = src[row + colIndex[i]];
      for (let x = 0; x < w; x++) {
        const c = x + r;
        let s = line[c] * w0;
        for (let j = r; j >= 1; j--) s += (line[c - j] + line[c + j]) * weights[r - j];
        dst[row + x] = s;
      }
    }
  }
}

const filters = new Map<string, GaussianFilter>();

/**
 * gaussian_filter(input, sigma) for a float32 [height,width] map, reusing a cached filter (and its
 * scratch) per size and sigma. Pass `out` to avoid allocating the result.
 */
export function gaussianFilter(
  input: Float32Array,
  height: number,
  width: number,
  opts: GaussianOptions & { out?: Float32Array } = {},
): Float32Array {
  const key = `${height}x${width}/${opts.sigma ?? 4}/${opts.truncate ?? 4}/${opts.kernel ?? ''}`;
  let f = filters.get(key);
  if (!f) {
    f = new GaussianFilter(height, width, opts);
    filters.set(key, f);
  }
  return f.run(input, opts.out);
}
