import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GaussianFilter, gaussianFilter, gaussianKernel1d } from '../../src/postprocess/gaussian.js';
import { readNpy } from '../../src/util/npy.js';
import { FIXTURE } from '../helpers/fixtures.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('smoothed maps are bit-identical to the official gaussian_filter(sigma=4) outputs', () => {
  let checked = 0;
  for (const c of ['tiny_s126', 'tiny_s154']) {
    const dir = join(FIXTURE, c, 'outputs');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('__anomaly_map.npy'))) {
      const map = readNpy(join(dir, f));
      const want = readNpy(join(dir, f.replace('__anomaly_map.npy', '__anomaly_map_gauss4.npy')));
      const [h, w] = map.shape;
      for (const kernel of ['simd', 'reference'] as const) {
        const got = gaussianFilter(map.data as Float32Array, h, w, { kernel });
        assert.equal(maxAbsDiff(got, want.data as Float32Array), 0, `${kernel} ${c}/${f}`);
        assert.deepEqual(
          Buffer.from(got.buffer),
          Buffer.from((want.data as Float32Array).buffer),
          `${kernel} ${c}/${f} bits`,
        );
        checked++;
      }
    }
  }
  assert.equal(checked, 24);
});

test('kernel is normalised, symmetric and 2*int(4*sigma+0.5)+1 taps long', () => {
  for (const sigma of [0.7, 1, 2.5, 4]) {
    const k = gaussianKernel1d(sigma);
    assert.equal(k.length, 2 * Math.trunc(4 * sigma + 0.5) + 1);
    for (let i = 0; i < k.length; i++) assert.equal(k[i], k[k.length - 1 - i]);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
});

test('SIMD and TypeScript passes agree on odd, tiny and wide maps', () => {
  let s = 7;
  for (const [h, w, sigma] of [
    [3, 2, 4],
    [5, 33, 4],
    [40, 2, 1],
    [17, 101, 2.5],
    [64, 517, 4],
  ]) {
    const map = new Float32Array(h * w).map(() => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s / 2 ** 32;
    });
    const a = new GaussianFilter(h, w, { sigma, kernel: 'simd' }).run(map);
    const b = new GaussianFilter(h, w, { sigma, kernel: 'reference' }).run(map);
    assert.deepEqual(a, b, `${h}x${w} sigma ${sigma}`);
  }
  assert.throws(() => new GaussianFilter(5, 1, { kernel: 'simd' }), /width >= 2/);
});

test('a constant map stays (nearly) constant and out may alias the input', () => {
  const f = new GaussianFilter(20, 30);
  const m = new Float32Array(600).fill(0.25);
  const out = f.run(m, m);
  assert.equal(out, m);
  for (const v of out) assert.ok(Math.abs(v - 0.25) < 1e-6);
});

test('bad input is refused with a clear error', () => {
  assert.throws(() => gaussianFilter(new Float32Array(10), 3, 3), /10 values, expected 3x3 = 9/);
  assert.throws(() => new GaussianFilter(0, 5), /positive integers/);
  assert.throws(() => gaussianKernel1d(0), /sigma must be a positive number/);
  assert.throws(() => gaussianKernel1d(Number.NaN), /sigma/);
  assert.throws(
    () => new GaussianFilter(4, 4).run(new Float32Array(16), new Float32Array(3)),
    /output has 3 values/,
  );
});
