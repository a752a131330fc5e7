// HSF against the official fixture: (a) with the official K-Means labels our centre averaging and
// fusion reproduce the official HSF vectors and scores; (b) with our own deterministic K-Means the
// fused score falls inside the spread of the official (unseeded) method over 30 seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuHsfRunner } from '../../src/hsf/cpu.js';
import { FusionWorkspace, clusterCentres, fuseAndScore } from '../../src/hsf/fusion.js';
import { HSF_CASES, loadHsfFixture } from '../helpers/hsf-fixture.js';

const K_CLUSTERS = 20;
const ALPHA = 0.2;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const caseName of HSF_CASES) {
  test(`${caseName}: official labels -> official HSF vectors and scores (30 seeds)`, () => {
    const fx = loadHsfFixture(caseName);
    const { topK, embedDim } = fx.input;
    const ws = new FusionWorkspace(K_CLUSTERS, embedDim);
    let worstFeature = 0;
    let worstScore = 0;
    for (let s = 0; s < 30; s++) {
      clusterCentres(fx.input.tokens, 0, topK, 4, fx.seedLabels, s * topK, ws);
      const score = fuseAndScore(ws, fx.input.globalFeature, 0, fx.input.textFeatures, 0, ALPHA);
      worstFeature = Math.max(
        worstFeature,
        maxAbsDiff(ws.feature, fx.seedOutputs.subarray(s * embedDim, (s + 1) * embedDim)),
      );
      worstScore = Math.max(worstScore, Math.abs(score - fx.seedScores[s]));
      if (s === 0) {
        assert.ok(maxAbsDiff(ws.fused, fx.fused) < 1e-6, "seed 0 fused feature u'");
        const logitGap =
          100 * dot(ws.fused, fx.input.textFeatures, embedDim, 1) -
          100 * dot(ws.fused, fx.input.textFeatures, embedDim, 0);
        assert.ok(Math.abs(logitGap - (fx.logits[1] - fx.logits[0])) < 1e-4, 'seed 0 logit gap');
      }
    }
    assert.ok(worstFeature < 1e-6, `HSF vector max |diff| ${worstFeature}`);
    assert.ok(worstScore < 1e-6, `score max |diff| ${worstScore}`);
  });

  test(`${caseName}: our K-Means gives a score inside the official 30-seed spread`, async () => {
    const fx = loadHsfFixture(caseName);
    const runner = new CpuHsfRunner();
    const out = await runner.run(fx.input, { kClusters: K_CLUSTERS, alpha: ALPHA });
    const score = out.scores[0];
    assert.ok(
      score >= fx.spread.min && score <= fx.spread.max,
      `score ${score} outside the official spread [${fx.spread.min}, ${fx.spread.max}]`,
    );
    // every cluster used, labels in range
    const seen = new Set(out.labels);
    assert.equal(seen.size, K_CLUSTERS);
  });
}

function dot(a: Float64Array, t: Float32Array, dim: number, row: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += a[d] * t[row * dim + d];
  return s;
}
