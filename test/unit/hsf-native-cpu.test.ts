// The native CPU HSF (node-tensorrt's hsf_cpu.cpp) against the TypeScript reference: the same
// labels, inertia, f, u' and scores, bit for bit, for every batch position and thread count, on
// the official fixture's inputs, on real-size synthetic tokens and on awkward shapes. The addon is
// built by setup (and so in CI); without it these tests fail and say so.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { CpuHsfRunner } from '../../src/hsf/cpu.js';
import { HsfInputError } from '../../src/hsf/validate.js';
import { loadHsfCpuBinding, NativeCpuHsfRunner, type HsfCpuBinding } from '../../src/hsf/native-cpu.js';
import { syntheticHsfInput } from '../../src/hsf/synthetic-input.js';
import type { HsfInput, HsfResult } from '../../src/hsf/types.js';
import { HSF_CASES, loadHsfFixture } from '../helpers/hsf-fixture.js';

let loaded: HsfCpuBinding | undefined;
let whyNot = '';
try {
  loaded = loadHsfCpuBinding();
} catch (err) {
  whyNot = (err as Error).message;
}
/** The addon's binding; a test without it fails, naming the step that builds it. */
function need(): HsfCpuBinding {
  if (loaded) return loaded;
  throw new Error(
    `native HSF addon unavailable (${whyNot}): scripts/setup.sh builds it (native/node-tensorrt/build.sh)`,
  );
}

function synthetic(batch: number, rows: number, layers: number, dim: number, seed: number): HsfInput {
  return syntheticHsfInput({ batch, rows, layers, dim, seed, featureSeed: seed + 999, centres: 7 });
}

function assertSame(got: HsfResult, want: HsfResult, what: string): void {
  assert.deepEqual(Array.from(got.labels), Array.from(want.labels), `${what}: labels`);
  assert.deepEqual(Array.from(got.inertia!), Array.from(want.inertia!), `${what}: inertia`);
  assert.deepEqual(Array.from(got.scores), Array.from(want.scores), `${what}: scores`);
  assert.deepEqual(Array.from(got.fused), Array.from(want.fused), `${what}: fused u'`);
  assert.deepEqual(Array.from(got.clusterFeature!), Array.from(want.clusterFeature!), `${what}: f`);
}

test('native = TypeScript on the official fixture inputs', () => {
  const binding = need();
  for (const name of HSF_CASES) {
    const { input } = loadHsfFixture(name);
    const settings = { kClusters: 20, alpha: 0.2 };
    const want = new CpuHsfRunner().runSync(input, settings);
    for (const threads of [1, 2]) {
      assertSame(
        new NativeCpuHsfRunner(binding, {}, threads).runSync(input, settings),
        want,
        `${name} x${threads}`,
      );
    }
  }
});

test('native = TypeScript at the real size (100 x 4 x 768, k 20), batch 3, 1 to 3 threads', async () => {
  const binding = need();
  const input = synthetic(3, 100, 4, 768, 4242);
  const settings = { kClusters: 20, alpha: 0.2 };
  const want = new CpuHsfRunner().runSync(input, settings);
  for (const threads of [1, 2, 3]) {
    const runner = new NativeCpuHsfRunner(binding, {}, threads);
    assertSame(runner.runSync(input, settings), want, `sync x${threads}`);
    assertSame(await runner.run(input, settings), want, `async x${threads}`);
  }
  // one image alone splits its Gram matrix across threads: still the same bits as in the batch
  const one: HsfInput = {
    ...input,
    batch: 1,
    tokens: input.tokens.slice(100 * 4 * 768, 2 * 100 * 4 * 768),
    globalFeature: input.globalFeature.slice(768, 2 * 768),
    textFeatures: input.textFeatures.slice(2 * 768, 4 * 768),
  };
  const alone = new NativeCpuHsfRunner(binding, {}, 2).runSync(one, settings);
  assert.deepEqual(Array.from(alone.labels), Array.from(want.labels.subarray(100, 200)));
  assert.equal(alone.scores[0], want.scores[1]);
});

test('native = TypeScript on awkward shapes (rows and widths off every tile and lane size)', () => {
  const binding = need();
  // K 23 (tiles of 3 and 4 rows), L*D = 3*5 = 15 (not a multiple of 4), k 6; K 7 with k = K
  for (const [rows, layers, dim, k] of [
    [23, 3, 5, 6],
    [7, 1, 9, 7],
    [41, 2, 130, 9],
  ]) {
    const input = synthetic(2, rows, layers, dim, rows * 31 + dim);
    const settings = { kClusters: k, alpha: 0.35 };
    const want = new CpuHsfRunner({ nInit: 3 }).runSync(input, settings);
    for (const threads of [1, 2, 4]) {
      const got = new NativeCpuHsfRunner(binding, { nInit: 3 }, threads).runSync(input, settings);
      assertSame(got, want, `${rows}x${layers}x${dim} k${k} x${threads}`);
    }
  }
});

test('the K-Means options reach the native path (nInit, hartigan)', () => {
  const binding = need();
  const input = synthetic(1, 60, 2, 64, 99);
  const settings = { kClusters: 12, alpha: 0.2 };
  for (const kmeans of [
    { nInit: 1, hartigan: false },
    { nInit: 2, seed: 7 },
  ]) {
    const want = new CpuHsfRunner(kmeans).runSync(input, settings);
    assertSame(
      new NativeCpuHsfRunner(binding, kmeans, 1).runSync(input, settings),
      want,
      JSON.stringify(kmeans),
    );
  }
});

test('a non-finite token is an HsfInputError naming the image and token; bad shapes are named', async () => {
  const binding = need();
  const input = synthetic(2, 20, 2, 8, 5);
  input.tokens[20 * 2 * 8 + 3 * 2 * 8 + 5] = NaN; // image 1, token 3
  const runner = new NativeCpuHsfRunner(binding, {}, 2);
  const settings = { kClusters: 4, alpha: 0.2 };
  assert.throws(
    () => runner.runSync(input, settings),
    (e: Error) =>
      e instanceof HsfInputError && /image 1, selected token 3 has a non-finite value/.test(e.message),
  );
  await assert.rejects(runner.run(input, settings), HsfInputError);
  await assert.rejects(
    runner.run({ ...input, tokens: new Float32Array(3) }, settings),
    /tokens has 3 values/,
  );
  // straight to the binding (no TypeScript checks in front): its own named errors
  assert.throws(
    () => binding.runSync({ ...input, embedDim: 0 }, settings, runner.options),
    /embedDim must be a positive integer/,
  );
  await assert.rejects(
    binding.run(input, { kClusters: 40, alpha: 0.2 }, runner.options),
    /kClusters is larger than topK/,
  );
});

test('the portable Gram loop (aarch64 Jetsons run it) gives the same bits as the AVX2 kernel', () => {
  need(); // the child process below loads the same addon
  // NTRT_HSF_SCALAR=1 makes the addon take the scalar loop; it is read once per process
  const here = dirname(fileURLToPath(import.meta.url));
  const mod = (p: string) => JSON.stringify(pathToFileURL(join(here, p)).href);
  const script = `
    import { loadHsfCpuBinding, NativeCpuHsfRunner } from ${mod('../../src/hsf/native-cpu.js')};
    import { CpuHsfRunner } from ${mod('../../src/hsf/cpu.js')};
    import { clusteredTokens } from ${mod('../../src/hsf/synthetic-input.js')};
    const [rows, layers, dim] = [37, 3, 21];
    const tokens = clusteredTokens({ seed: 3, rows: 2 * rows, layers, dim, centres: 5, spread: 1 });
    const f = clusteredTokens({ seed: 4, rows: 2, layers: 3, dim, centres: 0, spread: 1 });
    const input = { batch: 2, topK: rows, layers, embedDim: dim, tokens,
      globalFeature: new Float32Array([...f.subarray(0, dim), ...f.subarray(3 * dim, 4 * dim)]),
      textFeatures: new Float32Array([...f.subarray(dim, 3 * dim), ...f.subarray(4 * dim, 6 * dim)]) };
    const s = { kClusters: 8, alpha: 0.2 };
    const b = loadHsfCpuBinding();
    const got = new NativeCpuHsfRunner(b, {}, 2).runSync(input, s);
    const want = new CpuHsfRunner().runSync(input, s);
    const same = (a, c) => a.length === c.length && a.every((v, i) => Object.is(v, c[i]));
    console.log(JSON.stringify({ kernel: b.kernel, labels: same(got.labels, want.labels),
      inertia: same(got.inertia, want.inertia), scores: same(got.scores, want.scores), fused: same(got.fused, want.fused) }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NTRT_HSF_SCALAR: '1' },
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out.trim()), {
    kernel: 'scalar',
    labels: true,
    inertia: true,
    scores: true,
    fused: true,
  });
});

test('concurrent runs (libuv pool threads sharing the worker pool) each get their own right answer', async () => {
  const binding = need();
  const settings = { kClusters: 8, alpha: 0.2 };
  const inputs = [1, 3, 1, 2, 1, 4, 1, 2].map((batch, i) => synthetic(batch, 40, 2, 96, 500 + 17 * i));
  const want = inputs.map((input) => new CpuHsfRunner().runSync(input, settings));
  const runners = [1, 2, 3].map((threads) => new NativeCpuHsfRunner(binding, {}, threads));
  for (let round = 0; round < 3; round++) {
    const got = await Promise.all(inputs.map((input, i) => runners[(i + round) % 3].run(input, settings)));
    got.forEach((g, i) => assertSame(g, want[i], `round ${round}, input ${i}`));
  }
});
