// HotRowScanner (WebAssembly SIMD) against a plain loop over the same maps: hot values at every
// column position (the row's overlapping last load included), values equal to the limit, NaN, -0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HotRowScanner } from '../../src/postprocess/hot-rows.js';

function expected(map: Float32Array, rows: number, cols: number, limit: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < rows; y++) {
    let hot = 0;
    for (let x = 0; x < cols; x++) if (!(map[y * cols + x] < limit)) hot = 1;
    out.push(hot);
  }
  return out;
}

test('hot rows = the plain loop, for widths 4 to 23 and 518, at every column', () => {
  for (const [rows, cols] of [
    [5, 4],
    [7, 5],
    [3, 6],
    [9, 7],
    [4, 23],
    [518, 518],
  ]) {
    const scanner = new HotRowScanner(rows, cols);
    assert.equal(scanner.kernel, 'simd');
    const flags = new Uint8Array(rows);
    for (let x = 0; x < cols; x++) {
      const map = new Float32Array(rows * cols).fill(0.25);
      const y = (x * 7) % rows;
      map[y * cols + x] = 0.5; // equal to the limit: hot (not below it)
      const any = scanner.scan(map, 0.5, flags);
      assert.equal(any, true);
      assert.deepEqual(Array.from(flags), expected(map, rows, cols, 0.5), `${rows}x${cols}, hot at x=${x}`);
      map[y * cols + x] = Math.fround(0.5 - 1e-7); // just below: cold
      assert.equal(scanner.scan(map, 0.5, flags), false, `${rows}x${cols}, just below at x=${x}`);
    }
  }
});

test('NaN is hot, -0 and -Infinity are cold; random maps agree with the loop', () => {
  const rows = 37;
  const cols = 41;
  const scanner = new HotRowScanner(rows, cols);
  const flags = new Uint8Array(rows);
  const map = new Float32Array(rows * cols).fill(-0);
  map[3 * cols + 40] = NaN;
  map[9 * cols] = -Infinity;
  assert.equal(scanner.scan(map, 0, flags), true);
  assert.deepEqual(Array.from(flags), expected(map, rows, cols, 0));
  assert.equal(flags[3], 1);
  let s = 17;
  for (let t = 0; t < 20; t++) {
    for (let i = 0; i < map.length; i++) map[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const limit = 0.999 - t * 0.0005;
    scanner.scan(map, limit, flags);
    assert.deepEqual(Array.from(flags), expected(map, rows, cols, limit), `random ${t}`);
  }
});

test('narrow maps use the loop; a wrong size is an error naming both sizes', () => {
  const scanner = new HotRowScanner(2, 3);
  assert.equal(scanner.kernel, 'javascript');
  const flags = new Uint8Array(2);
  assert.equal(scanner.scan(new Float32Array([0, 0, 0, 0, 1, 0]), 0.5, flags), true);
  assert.deepEqual(Array.from(flags), [0, 1]);
  assert.throws(() => scanner.scan(new Float32Array(5), 0.5, flags), /5 values, expected 2x3/);
});
