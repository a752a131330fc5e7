// G = X X^T for the K rows of one image (row i = the L*D values of token i, all layers).
// Fixed summation order, shared with the WASM kernel (gram-wasm.ts) and the CUDA port: four
// float64 partial sums s_r = sum over e = r (mod 4), ascending e, of x_i[e] * x_j[e], then
// G_ij = (s_0 + s_1) + (s_2 + s_3). The products of two float32 are exact in float64 and the order
// is fixed, so every implementation gets bit-identical G and therefore identical K-Means labels.
// Four lanes also match two f64x2 SIMD accumulators and give the scalar loop independent chains.

/** The reference: one pair at a time, in the defined order. */
export function gramEntry(x: Float32Array, oi: number, oj: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let e = 0;
  for (; e + 3 < n; e += 4) {
    s0 += x[oi + e] * x[oj + e];
    s1 += x[oi + e + 1] * x[oj + e + 1];
    s2 += x[oi + e + 2] * x[oj + e + 2];
    s3 += x[oi + e + 3] * x[oj + e + 3];
  }
  if (e < n) s0 += x[oi + e] * x[oj + e];
  if (e + 1 < n) s1 += x[oi + e + 1] * x[oj + e + 1];
  if (e + 2 < n) s2 += x[oi + e + 2] * x[oj + e + 2];
  return s0 + s1 + (s2 + s3);
}

/** Fills g (rows*rows, row-major, symmetric) from x (float32 rows of length n at xOffset). */
export function gramFloat64(
  x: Float32Array,
  xOffset: number,
  rows: number,
  n: number,
  g: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    const oi = xOffset + i * n;
    for (let j = i; j < rows; j++) {
      const v = gramEntry(x, oi, xOffset + j * n, n);
      g[i * rows + j] = v;
      g[j * rows + i] = v;
    }
  }
}
