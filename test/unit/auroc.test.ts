import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc } from '../../src/eval/auroc.js';

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

test('auroc equals the pairwise definition, ties included', () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + Math.floor(rnd() * 60);
    const scores = Array.from({ length: n }, () => Math.round(rnd() * 10) / 10);
    const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rnd() < 0.4 ? 1 : 0));
    assert.ok(Math.abs(auroc(scores, labels) - pairwise(scores, labels)) < 1e-12);
  }
  assert.equal(auroc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1]), 1);
  assert.equal(auroc([0.9, 0.8, 0.1, 0.2], [0, 0, 1, 1]), 0);
});

test('auroc refuses one-class input and mismatched lengths', () => {
  assert.throws(() => auroc([0.1, 0.2], [1, 1]), /at least one normal/);
  assert.throws(() => auroc([0.1], [1, 0]), /1 scores but 2 labels/);
});
