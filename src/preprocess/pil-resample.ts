// PIL's Image.resize(size, Image.BICUBIC) for 8-bit 3-channel images, re-implemented from Pillow's
// src/libImaging/Resample.c (ImagingResample, Pillow 9.x) so the model sees exactly the pixels the
// official torchvision/PIL preprocessing produces. OpenCV's INTER_CUBIC is a different filter (no
// antialiasing when shrinking, a = -0.75), so no library call can stand in for it.
//
// What has to match bit for bit:
// - the filter: cubic convolution a = -0.5, support 2 scaled by the shrink factor (antialiasing);
// - the tap windows and weights, computed in float64 in PIL's order, normalised per output pixel,
//   then converted to 22-bit fixed point with PIL's rounding;
// - two separable passes, horizontal first, each rounding (+2^21, >> 22) and clipping to uint8;
// - a pass is skipped when that axis keeps its size, and the horizontal pass only covers the rows
//   the vertical pass reads.

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Resampling taps for one axis: output i reads `count[i]` inputs from `start[i]` with `coeffs`. */
export interface ResampleAxis {
  inSize: number;
  outSize: number;
  /** Stride of `coeffs` per output (PIL's ksize). */
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  /** Fixed-point weights, [outSize * ksize], zero past count[i]. */
  coeffs: Int32Array;
}

const axisCache = new Map<string, ResampleAxis>();

/** PIL's precompute_coeffs + normalize_coeffs_8bpc for the bicubic filter, cached per size pair. */
export function bicubicAxis(inSize: number, outSize: number): ResampleAxis {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 1 || outSize < 1) {
    throw new Error(`bicubic resample: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  }
  const key = `${inSize}>${outSize}`;
  const cached = axisCache.get(key);
  if (cached) return cached;

  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const inv = 1 / filterscale;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const coeffs = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) * inv);
      ww += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x] / ww : w[x];
      const scaled = k * (1 << PRECISION_BITS);
      coeffs[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + scaled) : Math.trunc(0.5 + scaled);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  const axis = { inSize, outSize, ksize, start, count, coeffs };
  axisCache.set(key, axis);
  return axis;
}

/** An interleaved 3-channel uint8 image; rows may be padded (`stride` bytes apart). */
export interface Image3 {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes from one row to the next; width * 3 when the rows are packed. */
  stride: number;
  /** Byte offset of the first pixel in `data`. */
  offset: number;
}

/**
 * Reusable scratch for resizing one frame size to one output size. Holds the intermediate image of
 * the horizontal pass and the output, so a steady stream of frames allocates nothing.
 */
export class BicubicResizer {
  readonly horizontal: ResampleAxis;
  readonly vertical: ResampleAxis;
  /** Interleaved 3-channel uint8 [outHeight, outWidth, 3]; overwritten by each resize(). */
  readonly output: Uint8ClampedArray;
  private readonly temp: Uint8ClampedArray;
  private readonly firstRow: number;
  private readonly tempRows: number;

  constructor(
    readonly inWidth: number,
    readonly inHeight: number,
    readonly outWidth: number,
    readonly outHeight: number,
  ) {
    this.horizontal = bicubicAxis(inWidth, outWidth);
    this.vertical = bicubicAxis(inHeight, outHeight);
    const v = this.vertical;
    this.firstRow = v.start[0];
    this.tempRows = v.start[outHeight - 1] + v.count[outHeight - 1] - this.firstRow;
    this.temp = new Uint8ClampedArray(this.needHorizontal ? outWidth * 3 * this.tempRows : 0);
    this.output = new Uint8ClampedArray(outWidth * outHeight * 3);
  }

  get needHorizontal(): boolean {
    return this.inWidth !== this.outWidth;
  }

  get needVertical(): boolean {
    return this.inHeight !== this.outHeight;
  }

  /** Resizes `src` into this.output (same channel order as src) and returns it. */
  resize(src: Image3): Uint8ClampedArray {
    if (src.width !== this.inWidth || src.height !== this.inHeight) {
      throw new Error(
        `bicubic resize: image is ${src.width}x${src.height}, this resizer was made for ${this.inWidth}x${this.inHeight}`,
      );
    }
    if (
      src.stride < src.width * 3 ||
      src.offset + src.stride * (src.height - 1) + src.width * 3 > src.data.length
    ) {
      throw new Error(
        `bicubic resize: ${src.data.length} bytes cannot hold a ${src.width}x${src.height}x3 image ` +
          `(stride ${src.stride}, offset ${src.offset})`,
      );
    }
    const rowBytes = this.outWidth * 3;
    if (this.needHorizontal) {
      horizontalPass(
        src.data,
        src.offset + this.firstRow * src.stride,
        src.stride,
        this.tempRows,
        this.horizontal,
        this.temp,
      );
      if (this.needVertical) verticalPass(this.temp, rowBytes, this.vertical, this.firstRow, this.output);
      else this.output.set(this.temp);
    } else if (this.needVertical) {
      const packed = src.offset === 0 && src.stride === rowBytes ? src.data : packRows(src);
      verticalPass(packed, rowBytes, this.vertical, 0, this.output);
    } else {
      this.output.set(packRows(src));
    }
    return this.output;
  }
}

function packRows(src: Image3): Uint8Array {
  const rowBytes = src.width * 3;
  if (src.stride === rowBytes) return src.data.subarray(src.offset, src.offset + rowBytes * src.height);
  const out = new Uint8Array(rowBytes * src.height);
  for (let y = 0; y < src.height; y++) {
    out.set(
      src.data.subarray(src.offset + y * src.stride, src.offset + y * src.stride + rowBytes),
      y * rowBytes,
    );
  }
  return out;
}

// PIL's ImagingResampleHorizontal_8bpc for 3 bands. The Uint8ClampedArray store does clip8.
function horizontalPass(
  src: Uint8Array,
  firstRowOffset: number,
  stride: number,
  rows: number,
  axis: ResampleAxis,
  dst: Uint8ClampedArray,
): void {
  const { outSize, ksize, start, count, coeffs } = axis;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const row = firstRowOffset + y * stride;
    for (let xx = 0; xx < outSize; xx++) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let p = row + start[xx] * 3;
      const k0 = xx * ksize;
      const n = count[xx];
      for (let x = 0; x < n; x++) {
        const k = coeffs[k0 + x];
        s0 += src[p] * k;
        s1 += src[p + 1] * k;
        s2 += src[p + 2] * k;
        p += 3;
      }
      dst[o] = s0 >> PRECISION_BITS;
      dst[o + 1] = s1 >> PRECISION_BITS;
      dst[o + 2] = s2 >> PRECISION_BITS;
      o += 3;
    }
  }
}

// PIL's ImagingResampleVertical_8bpc for 3 bands; `rowShift` is the first source row held by src.
function verticalPass(
  src: Uint8Array | Uint8ClampedArray,
  rowBytes: number,
  axis: ResampleAxis,
  rowShift: number,
  dst: Uint8ClampedArray,
): void {
  const { outSize, ksize, start, count, coeffs } = axis;
  for (let yy = 0; yy < outSize; yy++) {
    const k0 = yy * ksize;
    const n = count[yy];
    const first = (start[yy] - rowShift) * rowBytes;
    const o = yy * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      let s = HALF;
      let p = first + i;
      for (let y = 0; y < n; y++) {
        s += src[p] * coeffs[k0 + y];
        p += rowBytes;
      }
      dst[o + i] = s >> PRECISION_BITS;
    }
  }
}
