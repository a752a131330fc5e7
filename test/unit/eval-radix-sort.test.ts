import { test } from 'node:test';
import assert from 'node:assert/strict';
import { radixSortFloat32 } from '../../src/eval/radix-sort.js';

test('radix sort orders float32 values as a numeric sort does, signs and specials included', () => {
  let s = 3;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = new Float32Array(20000);
  for (let i = 0; i < values.length; i++) {
    const r = rnd();
    values[i] =
      r < 0.3 ? Math.round(rnd() * 100) / 100 : r < 0.6 ? (rnd() - 0.5) * 1e6 : (rnd() - 0.5) * 1e-40;
  }
  values.set([0, -0, Infinity, -Infinity, 1.4e-45, -1.4e-45, 3.4e38, -3.4e38], 0);
  const want = values.slice().sort(); // the engine's own numeric sort, -0 before +0
  radixSortFloat32(values);
  assert.deepEqual(
    Array.from(values, (v) => (Object.is(v, -0) ? '-0' : v)),
    Array.from(want, (v) => (Object.is(v, -0) ? '-0' : v)),
  );
});

test('radix sort carries the payload and keeps equal values in input order', () => {
  const values = Float32Array.from([0.5, 0.25, 0.5, -1, 0.25, 0.5]);
  const payload = Uint32Array.from([0, 1, 2, 3, 4, 5]);
  radixSortFloat32(values, payload);
  assert.deepEqual([...values], [-1, 0.25, 0.25, 0.5, 0.5, 0.5]);
  assert.deepEqual([...payload], [3, 1, 4, 0, 2, 5]);
  const same = Float32Array.from([0.7, 0.7, 0.7]);
  const p = Uint32Array.from([9, 8, 7]);
  radixSortFloat32(same, p); // one digit value in every pass: nothing moves
  assert.deepEqual([...p], [9, 8, 7]);
  assert.throws(() => radixSortFloat32(values, new Uint32Array(2)), /6 values but 2 payloads/);
});
