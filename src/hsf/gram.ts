// G = X X^T for the K rows of one image (row i = the L*D values of token i, all layers).
// Every entry is summed in float64, strictly in element order e = 0..n-1, one accumulator per
// entry: the products of two float32 are exact in float64, so the CUDA port, which sums each
// entry in the same order, gets bit-identical G and therefore identical K-Means labels.
// Blocking (4 columns at a time, CHUNK elements at a time for cache reuse) changes only which
// entries are worked on together, never the order of one entry's additions.

const CHUNK = 512;

/**
 * Fills g (K*K, row-major, symmetric) from x (float32 rows of length n starting at xOffset).
 */
export function gramFloat64(
  x: Float32Array,
  xOffset: number,
  rows: number,
  n: number,
  g: Float64Array,
): void {
  g.fill(0, 0, rows * rows);
  for (let e0 = 0; e0 < n; e0 += CHUNK) {
    const e1 = Math.min(n, e0 + CHUNK);
    for (let i = 0; i < rows; i++) {
      const oi = xOffset + i * n;
      const gi = i * rows;
      let j = i;
      for (; j + 3 < rows; j += 4) {
        const o0 = xOffset + j * n;
        const o1 = o0 + n;
        const o2 = o1 + n;
        const o3 = o2 + n;
        let a0 = g[gi + j];
        let a1 = g[gi + j + 1];
        let a2 = g[gi + j + 2];
        let a3 = g[gi + j + 3];
        for (let e = e0; e < e1; e++) {
          const v = x[oi + e];
          a0 += v * x[o0 + e];
          a1 += v * x[o1 + e];
          a2 += v * x[o2 + e];
          a3 += v * x[o3 + e];
        }
        g[gi + j] = a0;
        g[gi + j + 1] = a1;
        g[gi + j + 2] = a2;
        g[gi + j + 3] = a3;
      }
      for (; j < rows; j++) {
        const oj = xOffset + j * n;
        let a = g[gi + j];
        for (let e = e0; e < e1; e++) a += x[oi + e] * x[oj + e];
        g[gi + j] = a;
      }
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = i + 1; j < rows; j++) g[j * rows + i] = g[i * rows + j];
  }
}
