// ToTensor (/255) + Normalize(mean, std) as torchvision does them in float32, as a 256-entry table
// per channel: every uint8 value maps to exactly the float32 torch computes. (Each step is one
// float32 operation; doing it in float64 and rounding once per step gives the same float32, since
// double has more than 2*24+2 bits.)

/** The OpenAI CLIP normalisation the official AdaCLIP preprocessing uses. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export type Triple = readonly [number, number, number] | readonly number[];

/** [3 * 256] float32: entry c * 256 + v is ((v / 255) - mean[c]) / std[c] in float32 steps, c in RGB order. */
export function normalizeTable(mean: Triple, std: Triple): Float32Array {
  if (mean.length !== 3 || std.length !== 3) {
    throw new Error(`normalisation needs 3 means and 3 stds, got ${mean.length} and ${std.length}`);
  }
  for (let c = 0; c < 3; c++) {
    if (!Number.isFinite(mean[c]))
      throw new Error(`normalisation mean[${c}] is not a finite number: ${mean[c]}`);
    if (!Number.isFinite(std[c]) || std[c] === 0) {
      throw new Error(`normalisation std[${c}] must be a finite non-zero number, got ${std[c]}`);
    }
  }
  const f = Math.fround;
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c]);
    const s = f(std[c]);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - m) / s);
  }
  return lut;
}

/**
 * Interleaved uint8 [S*S, 3] -> planar float32 [3, S*S] at `offset` in `out`, through the table.
 * `bgr`: the source channels are B,G,R (OpenCV) and are swapped to the model's R,G,B.
 */
export function normalizeToPlanar(
  pixels: Uint8Array | Uint8ClampedArray,
  lut: Float32Array,
  bgr: boolean,
  out: Float32Array,
  offset: number,
): void {
  const n = pixels.length / 3;
  if (offset < 0 || offset + 3 * n > out.length) {
    throw new Error(
      `normalise: output of ${out.length} floats cannot take 3x${n} values at offset ${offset}`,
    );
  }
  // source channel k lands in plane k (RGB source) or 2 - k (BGR source), through that plane's table
  const first = bgr ? 2 : 0;
  const last = 2 - first;
  const p0 = offset + first * n;
  const p1 = offset + n;
  const p2 = offset + last * n;
  const t0 = first * 256;
  const t2 = last * 256;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    out[p0 + i] = lut[t0 + pixels[p]];
    out[p1 + i] = lut[256 + pixels[p + 1]];
    out[p2 + i] = lut[t2 + pixels[p + 2]];
  }
}
