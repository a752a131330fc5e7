import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMapMask, maskRegions } from '../../src/eval/ground-truth.js';
import { loadOpenCV } from '../../src/util/opencv.js';

test('a mask shrinks by area: a map pixel is defective where more than half of it is', () => {
  const cv = loadOpenCV();
  const dir = mkdtempSync(join(tmpdir(), 'gt-'));
  const mask = new cv.Mat(448, 448, cv.CV_8UC1, 0);
  // 100 x 50 pixels on even coordinates: exactly 50 x 25 map pixels at half the size
  mask.drawRectangle(new cv.Rect(10, 10, 100, 50), new cv.Vec3(255, 255, 255), -1);
  // one stray pixel (a quarter of a map pixel) and a faint one (any non-zero value is defective)
  mask.set(301, 301, 255);
  mask.drawRectangle(new cv.Rect(200, 200, 4, 4), new cv.Vec3(1, 1, 1), -1);
  const file = join(dir, 'm_mask.png');
  cv.imwrite(file, mask);
  const m = readMapMask(file, 224);
  assert.equal(m.width, 448);
  assert.equal(m.height, 448);
  assert.equal(m.defectPixels, 50 * 25 + 2 * 2);
  assert.equal(m.data[150 * 224 + 150], 0, 'the stray pixel is a quarter of a map pixel');
  const regions = maskRegions(m.data, 224);
  assert.equal(regions.count, 2);
  assert.deepEqual(
    [...regions.areas].sort((a, b) => a - b),
    [4, 1250],
  );
  assert.throws(() => readMapMask(join(dir, 'none.png'), 224), /none\.png: mask file not found/);
});
