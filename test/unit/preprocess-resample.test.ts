// Properties of the PIL-bicubic resampler and the normalisation table that hold for any input.
// Exactness against PIL itself is checked in test/integration/preprocess-pil.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BicubicResizer, bicubicAxis, type Image3 } from '../../src/preprocess/pil-resample.js';
import { CLIP_MEAN, CLIP_STD, normalizeTable, normalizeToPlanar } from '../../src/preprocess/normalize.js';

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const packed = (data: Uint8Array, width: number, height: number): Image3 => ({
  data,
  width,
  height,
  stride: width * 3,
  offset: 0,
});

test('tap windows stay inside the input and weights sum to one in 22-bit fixed point', () => {
  for (const [inSize, outSize] of [
    [1920, 518],
    [1080, 518],
    [200, 518],
    [17, 33],
    [5, 1],
    [518, 518],
  ]) {
    const a = bicubicAxis(inSize, outSize);
    const support = 2 * Math.max(inSize / outSize, 1);
    assert.equal(a.ksize, Math.ceil(support) * 2 + 1);
    for (let i = 0; i < outSize; i++) {
      assert.ok(
        a.start[i] >= 0 && a.count[i] >= 1 && a.start[i] + a.count[i] <= inSize,
        `${inSize}->${outSize} #${i}`,
      );
      assert.ok(a.count[i] <= a.ksize);
      let sum = 0;
      for (let k = 0; k < a.ksize; k++) sum += a.coeffs[i * a.ksize + k];
      for (let k = a.count[i]; k < a.ksize; k++) assert.equal(a.coeffs[i * a.ksize + k], 0);
      // each weight is rounded on its own, so the sum is 2^22 up to half a unit per tap
      assert.ok(Math.abs(sum - 2 ** 22) <= a.count[i] / 2 + 1, `${inSize}->${outSize} #${i}: sum ${sum}`);
    }
  }
  assert.equal(bicubicAxis(1920, 518), bicubicAxis(1920, 518), 'tables are cached');
  assert.throws(() => bicubicAxis(0, 5), /positive integers/);
});

test('same size is the identity and a flat image stays flat', () => {
  const img = noise(30 * 20 * 3, 1);
  assert.deepEqual(new Uint8Array(new BicubicResizer(30, 20, 30, 20).resize(packed(img, 30, 20))), img);
  const flat = new Uint8Array(300 * 200 * 3).fill(173);
  for (const [w, h] of [
    [518, 518],
    [64, 33],
  ]) {
    const out = new BicubicResizer(300, 200, w, h).resize(packed(flat, 300, 200));
    assert.equal(out.length, w * h * 3);
    for (const v of out) assert.ok(Math.abs(v - 173) <= 1, `flat 173 became ${v}`);
  }
});

test('a crop given by offset and stride equals the packed crop', () => {
  const W = 50;
  const H = 40;
  const full = noise(W * H * 3, 7);
  const [x, y, w, h] = [7, 5, 31, 22];
  const crop = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++)
    crop.set(full.subarray(((y + r) * W + x) * 3, ((y + r) * W + x + w) * 3), r * w * 3);
  for (const [ow, oh] of [
    [16, 16],
    [31, 9],
    [12, 22],
    [31, 22],
  ]) {
    const a = new Uint8Array(new BicubicResizer(w, h, ow, oh).resize(packed(crop, w, h)));
    const b = new BicubicResizer(w, h, ow, oh).resize({
      data: full,
      width: w,
      height: h,
      stride: W * 3,
      offset: (y * W + x) * 3,
    });
    assert.deepEqual(new Uint8Array(b), a, `${ow}x${oh}`);
  }
  const r = new BicubicResizer(10, 10, 4, 4);
  assert.throws(
    () => r.resize(packed(new Uint8Array(300), 10, 9)),
    /image is 10x9, this resizer was made for 10x10/,
  );
  assert.throws(() => r.resize(packed(new Uint8Array(299), 10, 10)), /299 bytes cannot hold a 10x10x3 image/);
});

test('normalisation table follows (v/255 - mean)/std and planes come out in RGB order', () => {
  const lut = normalizeTable(CLIP_MEAN, CLIP_STD);
  for (let c = 0; c < 3; c++) {
    for (const v of [0, 1, 128, 254, 255]) {
      assert.ok(Math.abs(lut[c * 256 + v] - (v / 255 - CLIP_MEAN[c]) / CLIP_STD[c]) < 1e-6);
    }
  }
  // one pixel per source channel order: B=10, G=20, R=30
  const out = new Float32Array(3 + 2);
  normalizeToPlanar(new Uint8Array([10, 20, 30]), lut, true, out, 1);
  assert.deepEqual(Array.from(out), [0, lut[30], lut[256 + 20], lut[512 + 10], 0]);
  normalizeToPlanar(new Uint8Array([10, 20, 30]), lut, false, out, 1);
  assert.deepEqual(Array.from(out), [0, lut[10], lut[256 + 20], lut[512 + 30], 0]);
  assert.throws(() => normalizeToPlanar(new Uint8Array(6), lut, true, out, 0), /cannot take 3x2 values/);
});
