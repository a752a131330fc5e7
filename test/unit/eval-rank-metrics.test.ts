import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankMetrics } from '../../src/eval/rank-metrics.js';
import { imageMetrics } from '../../src/eval/image-metrics.js';

const sorted = (xs: number[]) => Float64Array.from(xs).sort();

test('perfect and reversed rankings give the extreme values', () => {
  const good = rankMetrics({
    neg: sorted([0.1, 0.2, 0.3]),
    pos: sorted([0.8, 0.9]),
    posWeight: [0.25, 0.25],
  });
  assert.deepEqual(
    { auroc: good.auroc, ap: good.ap, f1: good.f1Max, thr: good.f1Threshold },
    { auroc: 1, ap: 1, f1: 1, thr: 0.8 },
  );
  // both positives found before any negative: the whole PRO curve sits at 0.5 (weights sum to 0.5)
  assert.ok(Math.abs(good.aupro! - 0.5) < 1e-15);
  const bad = rankMetrics({ neg: sorted([0.8, 0.9]), pos: sorted([0.1, 0.2]) });
  assert.equal(bad.auroc, 0);
  assert.equal(bad.aupro, undefined);
});

test('hand-computed AP, F1-max and tie handling', () => {
  // descending: 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.5 (pos and neg tied)
  const m = rankMetrics({ neg: sorted([0.8, 0.5]), pos: sorted([0.9, 0.7, 0.5]) });
  // points: (tp,fp) = (1,0) (1,1) (2,1) (3,2); recall steps 1/3 at precisions 1, 2/3, 3/5
  assert.ok(Math.abs(m.ap - (1 / 3) * (1 + 2 / 3 + 3 / 5)) < 1e-15);
  // F1 = 2tp / (tp + fp + 3): 0.5, 0.4, 0.667, 0.75
  assert.ok(Math.abs(m.f1Max - 0.75) < 1e-15);
  assert.equal(m.f1Threshold, 0.5);
  // the tie at 0.5 counts half: 3.5 of the 6 (positive, negative) pairs are ordered right
  assert.ok(Math.abs(m.auroc - 3.5 / 6) < 1e-15);
});

test('AUPRO integrates to the FPR limit with the crossing segment interpolated', () => {
  // 10 negatives 0.0..0.9, one region of two pixels at 0.95 and 0.45
  const neg = sorted([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  const m = rankMetrics({ neg, pos: sorted([0.45, 0.95]), posWeight: [0.5, 0.5], fprLimit: 0.25 });
  // PRO = 0.5 from FPR 0 to 0.5, where it steps to 1 (at 0.45 after the 5 negatives above it)
  assert.ok(Math.abs(m.aupro! - 0.5) < 1e-15);
  const wide = rankMetrics({ neg, pos: sorted([0.45, 0.95]), posWeight: [0.5, 0.5], fprLimit: 0.6 });
  // 0..0.5 at 0.5, then the vertical step (area 0), then 1 from 0.5 to 0.6: (0.25 + 0.1) / 0.6
  assert.ok(Math.abs(wide.aupro! - 0.35 / 0.6) < 1e-15);
});

// Independent definition: the probability that a random anomalous sample outscores a random
// normal one, ties counting one half, by brute force over all pairs.
function pairwise(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

test('AUROC equals the pairwise definition, ties included', () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + Math.floor(rnd() * 60);
    const scores = Array.from({ length: n }, () => Math.round(rnd() * 10) / 10);
    const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rnd() < 0.4 ? 1 : 0));
    assert.ok(Math.abs(imageMetrics(scores, labels).auroc - pairwise(scores, labels)) < 1e-12);
  }
});

test('imageMetrics splits by label; bad input is refused with the reason', () => {
  const m = imageMetrics([0.2, 0.9, 0.1, 0.8], [0, 1, 0, 1]);
  assert.equal(m.auroc, 1);
  assert.throws(() => imageMetrics([0.2, 0.3], [0, 0]), /normal and anomalous/);
  assert.throws(() => imageMetrics([0.2, NaN], [0, 1]), /value 1 is NaN/);
  assert.throws(() => imageMetrics([0.2], [0, 1]), /1 scores but 2 labels/);
  assert.throws(() => rankMetrics({ neg: [0], pos: [1], posWeight: [] }), /1 anomalous scores but 0 weights/);
});
