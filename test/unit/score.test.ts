// The score without HSF from the official intermediates (u, t) against the official score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE } from '../helpers/fixtures.js';
import { readNpy } from '../../src/util/npy.js';
import { scoreWithoutHsf } from '../../src/postprocess/score.js';

for (const caseName of ['tiny_s126', 'tiny_s154']) {
  test(`${caseName}: softmax(100 u.t)[abnormal] from the official u and t`, (t) => {
    const inter = join(FIXTURE, caseName, 'intermediates', 'brushed_metal_dent_300x200__transistor-board');
    const u = readNpy(join(inter, 'proj_cls_feature_1xD.npy')).data as Float32Array;
    const tDx2 = readNpy(join(inter, 'text_features_Dx2.npy')).data as Float32Array;
    const D = u.length;
    const t2xD = new Float32Array(2 * D);
    for (let d = 0; d < D; d++) for (let c = 0; c < 2; c++) t2xD[c * D + d] = tDx2[d * 2 + c];
    const [score] = scoreWithoutHsf({ batch: 1, embedDim: D, globalFeature: u, textFeatures: t2xD });
    const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8'));
    const want = fixture.cases[caseName].results.find(
      (r: any) => r.image === 'brushed_metal_dent_300x200' && r.class_name === 'transistor-board',
    ).score_no_hsf as number;
    const err = Math.abs(score - want);
    t.diagnostic(`|ours - official| = ${err}`);
    // float32 rounding of a ~0.9 value is 6e-8; the official float32 matmul order may add a few ulps
    assert.ok(err <= 3e-7, `score ${score} vs official ${want}`);
  });
}
