// The official HSF after K-Means (reference/adaclip-inference.md, step 8): cluster centres as the
// mean over layers and members of the T_l rows, f = normalise(mean of the centres), the fusion
// u' = normalise(alpha f + (1 - alpha) u) and score = softmax(100 u'.t)[abnormal].
// Sums run in float64; outputs are float32 like the official tensors.

/** Scratch for one (k, D). */
export class FusionWorkspace {
  readonly centres: Float64Array;
  readonly counts: Int32Array;
  readonly feature: Float64Array;
  readonly fused: Float64Array;

  constructor(
    readonly k: number,
    readonly dim: number,
  ) {
    this.centres = new Float64Array(k * dim);
    this.counts = new Int32Array(k);
    this.feature = new Float64Array(dim);
    this.fused = new Float64Array(dim);
  }
}

/**
 * Centre of each cluster: mean over its members i and the layers l of tokens[i,l,:].
 * tokens holds rows of L*D floats from tokenOffset; fills ws.centres ([k,D]) and ws.counts.
 */
export function clusterCentres(
  tokens: Float32Array,
  tokenOffset: number,
  rows: number,
  layers: number,
  labels: Int32Array,
  labelOffset: number,
  ws: FusionWorkspace,
): void {
  const { k, dim, centres, counts } = ws;
  centres.fill(0);
  counts.fill(0);
  for (let i = 0; i < rows; i++) {
    const c = labels[labelOffset + i];
    if (!(c >= 0 && c < k)) throw new Error(`HSF: label ${c} of token ${i} is outside 0..${k - 1}`);
    counts[c]++;
    const oc = c * dim;
    for (let l = 0; l < layers; l++) {
      const ot = tokenOffset + (i * layers + l) * dim;
      for (let d = 0; d < dim; d++) centres[oc + d] += tokens[ot + d];
    }
  }
  for (let c = 0; c < k; c++) {
    // an empty cluster (only possible with foreign labels) has no centre: the official code
    // would produce NaN here; we leave it out of the mean instead
    const inv = counts[c] > 0 ? 1 / (counts[c] * layers) : 0;
    const oc = c * dim;
    for (let d = 0; d < dim; d++) centres[oc + d] *= inv;
  }
}

/** Writes x / max(|x|, 1e-12) (torch F.normalize) into out. */
function normalise(x: Float64Array, out: Float64Array): void {
  let ss = 0;
  for (let d = 0; d < x.length; d++) ss += x[d] * x[d];
  const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
  for (let d = 0; d < x.length; d++) out[d] = x[d] * inv;
}

/**
 * From ws.centres: f (ws.feature), u' (ws.fused) and the score.
 * u is D floats at uOffset; t is [2,D] (normal, abnormal) at tOffset.
 */
export function fuseAndScore(
  ws: FusionWorkspace,
  u: Float32Array,
  uOffset: number,
  t: Float32Array,
  tOffset: number,
  alpha: number,
): number {
  const { k, dim, centres, counts, feature, fused } = ws;
  let nonEmpty = 0;
  for (let c = 0; c < k; c++) if (counts[c] > 0) nonEmpty++;
  feature.fill(0);
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    const oc = c * dim;
    for (let d = 0; d < dim; d++) feature[d] += centres[oc + d];
  }
  for (let d = 0; d < dim; d++) feature[d] /= nonEmpty;
  normalise(feature, feature);
  for (let d = 0; d < dim; d++) fused[d] = alpha * feature[d] + (1 - alpha) * u[uOffset + d];
  normalise(fused, fused);
  let normal = 0;
  let abnormal = 0;
  for (let d = 0; d < dim; d++) {
    normal += fused[d] * t[tOffset + d];
    abnormal += fused[d] * t[tOffset + dim + d];
  }
  // softmax over {normal, abnormal} at scale 100, abnormal channel
  return 1 / (1 + Math.exp(100 * normal - 100 * abnormal));
}
