// Clustered synthetic HSF tokens for tests and benchmarks, generated exactly as
// models/hsf-reference/synthetic.py does (the sklearn reference numbers were computed on them):
// Mulberry32 draws, Irwin-Hall gaussians (4 uniforms), per-layer L2 norm summed sequentially.
import { Mulberry32 } from '../util/prng.js';
import type { HsfInput } from './types.js';

const SQRT3 = 1.7320508075688772;

export interface SyntheticSpec {
  seed: number;
  rows: number;
  layers: number;
  dim: number;
  /** Number of true centres; 0 = isotropic noise on the sphere. */
  centres: number;
  /** Noise scale around a centre. */
  spread: number;
}

function gauss(rng: Mulberry32): number {
  const s = rng.next() + rng.next() + rng.next() + rng.next();
  return (s - 2) * SQRT3;
}

/**
 * float32 [rows, layers, dim], every (row, layer) vector of unit norm. Written into `out` at
 * `offset` when given (e.g. to fill one image of a batch).
 */
export function clusteredTokens(
  spec: SyntheticSpec,
  out = new Float32Array(spec.rows * spec.layers * spec.dim),
  offset = 0,
): Float32Array {
  const { rows, layers, dim, centres, spread } = spec;
  const perVec = layers * dim;
  const rng = new Mulberry32(spec.seed);
  const c = new Float64Array(centres * perVec);
  for (let i = 0; i < c.length; i++) c[i] = gauss(rng);
  const v = new Float64Array(perVec);
  for (let r = 0; r < rows; r++) {
    const pick = centres > 0 ? Math.floor(rng.next() * centres) : -1;
    for (let e = 0; e < perVec; e++) {
      const noise = gauss(rng);
      v[e] = pick >= 0 ? c[pick * perVec + e] + spread * noise : noise;
    }
    for (let l = 0; l < layers; l++) {
      let ss = 0;
      for (let d = 0; d < dim; d++) ss += v[l * dim + d] * v[l * dim + d];
      const norm = Math.sqrt(ss);
      for (let d = 0; d < dim; d++) out[offset + r * perVec + l * dim + d] = v[l * dim + d] / norm;
    }
  }
  return out;
}

/** sum_i x_i * (i % 13 + 1), sequentially in float64 (as synthetic.py's checksum). */
export function checksum(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * ((i % 13) + 1);
  return s;
}

export interface SyntheticBatchSpec {
  batch: number;
  rows: number;
  layers: number;
  dim: number;
  /** Image b's tokens come from seed + b. */
  seed: number;
  /** u and t of every image: one draw of 3 * batch unit vectors (u of each image, then the t pairs). */
  featureSeed: number;
  centres?: number;
  spread?: number;
}

/** A batch of HSF inputs (src/hsf/types.ts HsfInput) of clustered tokens, for tests and benchmarks. */
export function syntheticHsfInput(spec: SyntheticBatchSpec): HsfInput {
  const { batch, rows, layers, dim } = spec;
  const per = rows * layers * dim;
  const tokens = new Float32Array(batch * per);
  for (let b = 0; b < batch; b++) {
    const s = {
      seed: spec.seed + b,
      rows,
      layers,
      dim,
      centres: spec.centres ?? 12,
      spread: spec.spread ?? 1,
    };
    clusteredTokens(s, tokens, b * per);
  }
  const feats = clusteredTokens({
    seed: spec.featureSeed,
    rows: 1,
    layers: 3 * batch,
    dim,
    centres: 0,
    spread: 1,
  });
  return {
    batch,
    topK: rows,
    layers,
    embedDim: dim,
    tokens,
    globalFeature: feats.slice(0, batch * dim),
    textFeatures: feats.slice(batch * dim),
  };
}
