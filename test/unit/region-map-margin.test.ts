import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionMapper } from '../../src/postprocess/region-map.js';

// The premise of RegionMapper's 'none': a map whose raw values all stay under the threshold minus
// the margin smooths to a map without a pixel at or over the threshold.
const mappers = new Map<number, RegionMapper>();
function smoothingNeeded(map: Float32Array, threshold: number): boolean {
  const size = Math.sqrt(map.length);
  let mapper = mappers.get(size);
  if (!mapper) mappers.set(size, (mapper = new RegionMapper(size, { sigma: 4 })));
  return mapper.run(map, threshold).smoothed !== 'none';
}

test('a map that needs no smoothing smooths to a map without a pixel over the threshold', () => {
  const S = 96;
  const g = new RegionMapper(S, { sigma: 4 }).full;
  let seed = 7;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let trial = 0; trial < 50; trial++) {
    const thr = 0.3 + 0.6 * rnd();
    const m = new Float32Array(S * S);
    // values up to just under the threshold, with a spike right at the edge of the margin
    for (let i = 0; i < m.length; i++) m[i] = thr * rnd();
    m[Math.floor(rnd() * m.length)] = Math.fround(thr - 1.5e-5);
    const needed = smoothingNeeded(m, thr);
    const smoothed = g.run(m);
    const over = smoothed.some((v) => v >= thr);
    if (!needed) assert.equal(over, false, `trial ${trial}: skipped smoothing would have found pixels`);
  }
  // the worst case for rounding: a flat map just under the margin smooths to itself
  for (const thr of [0.5, 0.6100000143051147, 0.99]) {
    const flat = new Float32Array(S * S).fill(Math.fround(thr - 1.01e-5));
    assert.equal(smoothingNeeded(flat, thr), false);
    assert.equal(
      g.run(flat).some((v) => v >= thr),
      false,
      `flat map under ${thr}`,
    );
  }
});

test('values at or over the threshold, and NaN, ask for smoothing', () => {
  const m = new Float32Array(16).fill(0.1);
  assert.equal(smoothingNeeded(m, 0.5), false);
  m[3] = 0.5;
  assert.equal(smoothingNeeded(m, 0.5), true);
  m[3] = NaN;
  assert.equal(smoothingNeeded(m, 0.5), true);
  m[3] = 0.499995;
  assert.equal(smoothingNeeded(m, 0.5), true, 'inside the rounding margin');
});
