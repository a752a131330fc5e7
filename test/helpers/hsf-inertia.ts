// K-Means inertia computed directly on X (float64 means), independent of the Gram formulation.
/** Inertia computed directly on X (float64 means), independent of the Gram formulation. */
export function directInertia(
  x: Float32Array,
  rows: number,
  n: number,
  labels: Int32Array,
  k: number,
): number {
  const mean = new Float64Array(k * n);
  const count = new Int32Array(k);
  for (let i = 0; i < rows; i++) {
    count[labels[i]]++;
    for (let e = 0; e < n; e++) mean[labels[i] * n + e] += x[i * n + e];
  }
  for (let c = 0; c < k; c++) for (let e = 0; e < n; e++) mean[c * n + e] /= count[c];
  let s = 0;
  for (let i = 0; i < rows; i++) {
    for (let e = 0; e < n; e++) {
      const d = x[i * n + e] - mean[labels[i] * n + e];
      s += d * d;
    }
  }
  return s;
}
