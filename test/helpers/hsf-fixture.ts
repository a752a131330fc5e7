// HSF inputs of the official fixture (one image x class per case): T_l gathered at the official
// top-K indices, u and t, plus the official seed outputs and spread from fixture.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../src/util/npy.js';
import type { HsfInput } from '../../src/hsf/types.js';
import { FIXTURE } from './fixtures.js';

export const HSF_CASES = ['tiny_s126', 'tiny_s154'] as const;
const IMAGE = 'brushed_metal_dent_300x200';
const CLASS = 'transistor-board';

export interface HsfFixtureCase {
  input: HsfInput;
  /** [L,N,D] every projected patch token T_l, and the official top-K indices (descending). */
  patchTokens: Float32Array;
  patches: number;
  topkIndices: Int32Array;
  /** [30,K] official labels for random_state 0..29. */
  seedLabels: Int32Array;
  /** [30,D] official HSF vectors f. */
  seedOutputs: Float32Array;
  seedScores: number[];
  spread: { min: number; max: number; mean: number };
  /** seed 0: u' and the logits. */
  fused: Float32Array;
  logits: Float32Array;
}

export function loadHsfFixture(caseName: string): HsfFixtureCase {
  const dir = join(FIXTURE, caseName, 'intermediates', `${IMAGE}__${CLASS}`);
  const npy = (name: string) => readNpy(join(dir, name));
  const idx = npy('hsf_topk_indices_K.npy').data as BigInt64Array;
  const layers = [1, 2, 3, 4].map((l) => npy(`proj_patch_tokens_layer${l}_1xNxD.npy`));
  const dim = layers[0].shape[2];
  const k = idx.length;
  const tokens = new Float32Array(k * 4 * dim);
  for (let i = 0; i < k; i++) {
    const p = Number(idx[i]);
    for (let l = 0; l < 4; l++) {
      const src = layers[l].data as Float32Array;
      tokens.set(src.subarray(p * dim, (p + 1) * dim), (i * 4 + l) * dim);
    }
  }
  const tDx2 = npy('text_features_Dx2.npy').data as Float32Array;
  const text = new Float32Array(2 * dim);
  for (let d = 0; d < dim; d++) {
    text[d] = tDx2[d * 2];
    text[dim + d] = tDx2[d * 2 + 1];
  }
  const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8'));
  const result = fixture.cases[caseName].results.find(
    (r: { image: string; class_name: string }) => r.image === IMAGE && r.class_name === CLASS,
  );
  const patches = layers[0].shape[1];
  const patchTokens = new Float32Array(4 * patches * dim);
  layers.forEach((a, l) => patchTokens.set(a.data as Float32Array, l * patches * dim));
  return {
    patchTokens,
    patches,
    topkIndices: Int32Array.from(idx, (v) => Number(v)),
    input: {
      batch: 1,
      topK: k,
      layers: 4,
      embedDim: dim,
      tokens,
      globalFeature: npy('proj_cls_feature_1xD.npy').data as Float32Array,
      textFeatures: text,
    },
    seedLabels: npy('seed_kmeans_labels_30xK.npy').data as Int32Array,
    seedOutputs: npy('seed_hsf_outputs_30xD.npy').data as Float32Array,
    seedScores: result.hsf_seed_scores,
    spread: result.hsf_seed_stats,
    fused: npy('fused_image_feature_1xD.npy').data as Float32Array,
    logits: npy('score_logits_hsf_1x2.npy').data as Float32Array,
  };
}
