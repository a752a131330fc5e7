// The deterministic Gram K-Means and the CPU runner: exactness of the Gram matrix, inertia
// consistent with the data, bit-identical repeat runs, degenerate data, clear input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuHsfRunner } from '../../src/hsf/cpu.js';
import { gramFloat64 } from '../../src/hsf/gram.js';
import { gramFloat64Fast, wasmGramAvailable } from '../../src/hsf/gram-wasm.js';
import { KMeansWorkspace, kmeansFromGram, DEFAULT_KMEANS } from '../../src/hsf/kmeans-gram.js';
import { Mulberry32 } from '../../src/util/prng.js';
import { clusteredTokens, syntheticHsfInput } from '../../src/hsf/synthetic-input.js';
import type { HsfInput } from '../../src/hsf/types.js';
import { HsfInputError } from '../../src/hsf/validate.js';
import { directInertia } from '../helpers/hsf-inertia.js';

test('Mulberry32 matches its reference stream', () => {
  // expected: the vectorised numpy implementation in models/hsf-reference/synthetic.py
  // (mulberry32_draws(seed, 0, 3) * 2^32), which the CUDA port also follows
  for (const [seed, want] of [
    [0, [1144304738, 1416247, 958946056]],
    [0x5eed, [3049564378, 1229806541, 4088390650]],
  ] as const) {
    const rng = new Mulberry32(seed);
    assert.deepEqual(
      [rng.next(), rng.next(), rng.next()].map((u) => u * 4294967296),
      want,
    );
  }
});

test('Gram matrix equals the defined float64 partial sums of every pair', () => {
  const rows = 13;
  const n = 1102; // not a multiple of 4: exercises the tail
  const x = clusteredTokens({ seed: 3, rows, layers: 2, dim: n / 2, centres: 3, spread: 0.7 });
  const g = new Float64Array(rows * rows);
  gramFloat64(x, 0, rows, n, g);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      // the defined order: four partial sums by e mod 4, then (s0 + s1) + (s2 + s3)
      const s = [0, 0, 0, 0];
      for (let e = 0; e < n; e++) s[e % 4] += x[i * n + e] * x[j * n + e];
      assert.equal(g[i * rows + j], s[0] + s[1] + (s[2] + s[3]), `G[${i},${j}]`);
    }
  }
});

test('the WASM SIMD Gram kernel is bit-identical to the scalar reference', () => {
  assert.ok(wasmGramAvailable(), 'WASM SIMD kernel did not load');
  // odd and even row counts (row/column block tails), offsets into a batch, a non-multiple of 4
  for (const [rows, layers, dim] of [
    [1, 1, 4],
    [2, 2, 8],
    [7, 4, 12],
    [33, 4, 48],
    [100, 4, 768],
    [5, 1, 6],
  ]) {
    const n = layers * dim;
    const batch = clusteredTokens({ seed: rows, rows: 2 * rows, layers, dim, centres: 3, spread: 1 });
    const want = new Float64Array(rows * rows);
    const got = new Float64Array(rows * rows);
    gramFloat64(batch, rows * n, rows, n, want);
    gramFloat64Fast(batch, rows * n, rows, n, got);
    assert.deepEqual(got, want, `rows ${rows}, n ${n}`);
  }
});

test('K-Means recovers well separated clusters and its inertia matches the data', () => {
  const rows = 60;
  const k = 6;
  const spec = { seed: 5, rows, layers: 4, dim: 32, centres: k, spread: 0.05 };
  const x = clusteredTokens(spec);
  const n = spec.layers * spec.dim;
  const g = new Float64Array(rows * rows);
  gramFloat64(x, 0, rows, n, g);
  const ws = new KMeansWorkspace(rows, k);
  const stats = kmeansFromGram(g, ws, DEFAULT_KMEANS);
  // rows of one true centre are nearly identical: same label iff same true centre
  const nearly = (i: number, j: number) => g[i * rows + i] + g[j * rows + j] - 2 * g[i * rows + j] < 0.5;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      assert.equal(ws.bestLabels[i] === ws.bestLabels[j], nearly(i, j), `rows ${i}, ${j}`);
    }
  }
  const direct = directInertia(x, rows, n, ws.bestLabels, k);
  assert.ok(
    Math.abs(stats.inertia - direct) <= 1e-9 * direct + 1e-9,
    `inertia ${stats.inertia} vs ${direct}`,
  );
});

test('fewer distinct rows than clusters: no empty cluster, no NaN, zero inertia', () => {
  const distinct = clusteredTokens({ seed: 9, rows: 3, layers: 2, dim: 8, centres: 0, spread: 1 });
  const rows = 12;
  const n = 16;
  const x = new Float32Array(rows * n);
  for (let i = 0; i < rows; i++) x.set(distinct.subarray((i % 3) * n, ((i % 3) + 1) * n), i * n);
  const g = new Float64Array(rows * rows);
  gramFloat64(x, 0, rows, n, g);
  const ws = new KMeansWorkspace(rows, 5);
  const stats = kmeansFromGram(g, ws, DEFAULT_KMEANS);
  const counts = new Int32Array(5);
  for (const l of ws.bestLabels) counts[l]++;
  assert.ok(
    counts.every((c) => c > 0),
    `cluster sizes ${counts}`,
  );
  assert.ok(Number.isFinite(stats.inertia) && Math.abs(stats.inertia) < 1e-9, `inertia ${stats.inertia}`);
});

function batchInput(batch: number, rows: number, dim: number): HsfInput {
  return syntheticHsfInput({ batch, rows, layers: 4, dim, seed: 100, featureSeed: 7 });
}

test('same input -> bit-identical output, across runs, runners and batch positions', async () => {
  const input = batchInput(3, 40, 24);
  const settings = { kClusters: 8, alpha: 0.2 };
  const a = await new CpuHsfRunner().run(input, settings);
  const runner = new CpuHsfRunner();
  const b = await runner.run(input, settings);
  const c = await runner.run(input, settings);
  for (const other of [b, c]) {
    assert.deepEqual(other.labels, a.labels);
    assert.deepEqual(other.scores, a.scores);
    assert.deepEqual(other.fused, a.fused);
    assert.deepEqual(other.clusterFeature, a.clusterFeature);
  }
  // image 1 alone gives what it gave inside the batch
  const single: HsfInput = {
    ...input,
    batch: 1,
    tokens: input.tokens.slice(40 * 4 * 24, 2 * 40 * 4 * 24),
    globalFeature: input.globalFeature.slice(24, 48),
    textFeatures: input.textFeatures.slice(48, 96),
  };
  const s = await runner.run(single, settings);
  assert.deepEqual(s.labels, a.labels.slice(40, 80));
  assert.equal(s.scores[0], a.scores[1]);
  // scores are probabilities, fused vectors unit length
  for (let i = 0; i < 3; i++) {
    assert.ok(a.scores[i] > 0 && a.scores[i] < 1);
    let ss = 0;
    for (let d = 0; d < 24; d++) ss += a.fused[i * 24 + d] ** 2;
    assert.ok(Math.abs(ss - 1) < 1e-6);
  }
});

test('bad input is rejected with an error naming the problem', async () => {
  const runner = new CpuHsfRunner();
  const ok = batchInput(1, 20, 8);
  const settings = { kClusters: 4, alpha: 0.2 };
  const cases: [string, HsfInput, { kClusters: number; alpha: number }, RegExp][] = [
    ['short tokens', { ...ok, tokens: ok.tokens.subarray(1) }, settings, /tokens has 639 values/],
    ['k > K', ok, { kClusters: 21, alpha: 0.2 }, /kClusters 21 exceeds the 20/],
    ['alpha', ok, { kClusters: 4, alpha: 1.5 }, /alpha/],
    ['batch 0', { ...ok, batch: 0 }, settings, /batch must be a positive integer/],
    ['text', { ...ok, textFeatures: new Float32Array(3) }, settings, /textFeatures/],
  ];
  for (const [what, input, s, re] of cases) {
    await assert.rejects(
      runner.run(input, s),
      (e: Error) => e instanceof HsfInputError && re.test(e.message),
      what,
    );
  }
  const nan = { ...ok, tokens: ok.tokens.slice() };
  nan.tokens[5 * 32 + 3] = NaN;
  await assert.rejects(runner.run(nan, settings), /image 0, selected token 5 has a non-finite value/);
  const nanU = { ...ok, globalFeature: ok.globalFeature.slice() };
  nanU.globalFeature[2] = Infinity;
  await assert.rejects(runner.run(nanU, settings), /non-finite value in global\/text features/);
});
