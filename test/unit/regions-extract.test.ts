// Regions from hand-painted maps: the expected boxes, areas and scores are computed here from the
// painted rectangles and the ROI/resize arithmetic, independently of OpenCV's labelling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractRegions, MapError } from '../../src/postprocess/regions.js';
import { GeometryError, type MapSource } from '../../src/geometry/map-to-frame.js';

interface Paint {
  x: number;
  y: number;
  w: number;
  h: number;
  value: number;
}

function paint(size: number, rects: Paint[], background = 0.1): Float32Array {
  const m = new Float32Array(size * size).fill(background);
  for (const r of rects)
    for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) m[y * size + x] = r.value;
  return m;
}

const S = 64;

test('two painted rectangles come back as two regions in frame pixels through ROI and resize', () => {
  // ROI 640x320 at (100, 50) of a 1000x500 frame: one map pixel = 10 x 5 frame pixels.
  const src: MapSource = { width: 1000, height: 500, roi: { x: 100, y: 50, width: 640, height: 320 } };
  const a: Paint = { x: 4, y: 6, w: 10, h: 5, value: 0.9 };
  const b: Paint = { x: 40, y: 30, w: 6, h: 12, value: 0.7 };
  const map = paint(S, [a, b]);
  // a gradient inside b: its max and mean differ
  map[(b.y + 1) * S + b.x + 1] = 0.8;
  const { regions, total, defectivePixels } = extractRegions(map, S, src, {
    pixelThreshold: 0.5,
    minAreaPct: 0,
  });
  assert.equal(total, 2);
  assert.equal(defectivePixels, a.w * a.h + b.w * b.h);
  const sx = 640 / S;
  const sy = 320 / S;
  const expectBox = (p: Paint) => ({
    x: 100 + p.x * sx,
    y: 50 + p.y * sy,
    width: p.w * sx,
    height: p.h * sy,
  });
  // highest max score first
  const [ra, rb] = regions;
  assert.deepEqual({ x: ra.x, y: ra.y, width: ra.width, height: ra.height }, expectBox(a));
  assert.deepEqual({ x: rb.x, y: rb.y, width: rb.width, height: rb.height }, expectBox(b));
  assert.equal(ra.areaPx, a.w * a.h * sx * sy);
  assert.equal(rb.areaPx, b.w * b.h * sx * sy);
  assert.ok(Math.abs(ra.areaPct - (100 * a.w * a.h) / (S * S)) < 1e-3);
  assert.ok(Math.abs(ra.maxScore - 0.9) < 1e-6);
  assert.ok(Math.abs(ra.meanScore - 0.9) < 1e-6);
  assert.ok(Math.abs(rb.maxScore - 0.8) < 1e-6);
  const bMean = (0.7 * (b.w * b.h - 1) + 0.8) / (b.w * b.h);
  assert.ok(Math.abs(rb.meanScore - bMean) < 1e-6);
  // centroid of a solid rectangle = its centre
  assert.ok(Math.abs(ra.centroid.x - (100 + (a.x + a.w / 2) * sx)) < 0.01);
  assert.ok(Math.abs(ra.centroid.y - (50 + (a.y + a.h / 2) * sy)) < 0.01);
});

test('8-connectivity joins rectangles that touch at a corner', () => {
  const src: MapSource = { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } };
  const map = paint(S, [
    { x: 10, y: 10, w: 5, h: 5, value: 0.9 },
    { x: 15, y: 15, w: 5, h: 5, value: 0.9 },
  ]);
  const { regions } = extractRegions(map, S, src, { pixelThreshold: 0.5, minAreaPct: 0 });
  assert.equal(regions.length, 1);
  assert.deepEqual([regions[0].x, regions[0].y, regions[0].width, regions[0].height], [10, 10, 10, 10]);
  assert.equal(regions[0].areaPx, 50);
});

test('pixels exactly at the threshold count as defective; below does not', () => {
  const src: MapSource = { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } };
  const map = paint(S, [{ x: 1, y: 1, w: 3, h: 3, value: 0.5 }]);
  map[40 * S + 40] = 0.4999;
  const { regions } = extractRegions(map, S, src, { pixelThreshold: 0.5, minAreaPct: 0 });
  assert.equal(regions.length, 1);
  assert.equal(regions[0].areaPx, 9);
});

test('the minimum area filter drops small regions, by percent of the ROI', () => {
  const src: MapSource = { width: 200, height: 200, roi: { x: 0, y: 0, width: 128, height: 128 } };
  // 4 px = 0.098 % of 64x64; 25 px = 0.61 %
  const map = paint(S, [
    { x: 2, y: 2, w: 2, h: 2, value: 0.9 },
    { x: 30, y: 30, w: 5, h: 5, value: 0.6 },
  ]);
  const minAreaPct = 0.5;
  const { regions, total } = extractRegions(map, S, src, { pixelThreshold: 0.5, minAreaPct });
  assert.equal(total, 1);
  assert.equal(regions[0].x, 60);
  assert.equal(regions[0].areaPx, 25 * 4);
  assert.ok(regions.every((r) => r.areaPct >= minAreaPct));
});

test('maxRegions caps the list but total counts every region', () => {
  const src: MapSource = { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } };
  const rects: Paint[] = [];
  for (let i = 0; i < 6; i++) rects.push({ x: i * 10, y: 5, w: 3, h: 3, value: 0.6 + i * 0.05 });
  const { regions, total } = extractRegions(paint(S, rects), S, src, {
    pixelThreshold: 0.5,
    minAreaPct: 0,
    maxRegions: 3,
  });
  assert.equal(total, 6);
  assert.equal(regions.length, 3);
  assert.deepEqual(
    regions.map((r) => r.x),
    [50, 40, 30],
  );
});

test('an empty map gives no regions', () => {
  const src: MapSource = { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } };
  const r = extractRegions(paint(S, []), S, src, { pixelThreshold: 0.5, minAreaPct: 0 });
  assert.deepEqual(r, { regions: [], total: 0, defectivePixels: 0 });
});

test('bad maps and geometry are rejected with errors naming the problem', () => {
  const src: MapSource = { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } };
  const opts = { pixelThreshold: 0.5, minAreaPct: 0 };
  assert.throws(() => extractRegions(new Float32Array(10), S, src, opts), MapError);
  assert.throws(() => extractRegions(new Float32Array(10), S, src, opts), /expected 64x64/);
  const nan = paint(S, []);
  nan[7] = NaN;
  assert.throws(() => extractRegions(nan, S, src, opts), /NaN at index 7/);
  const outside: MapSource = { width: 100, height: 100, roi: { x: 50, y: 0, width: 64, height: 64 } };
  assert.throws(() => extractRegions(paint(S, []), S, outside, opts), GeometryError);
  const rotated: MapSource = {
    width: 200,
    height: 100,
    roi: { x: 0, y: 0, width: 100, height: 200 },
    rotate: 90,
  };
  assert.doesNotThrow(() => extractRegions(paint(S, []), S, rotated, opts));
});

test('half-max extent: the box of a peak inside its low halo, and of each peak on its own level', () => {
  // a core (0.9) inside a halo (0.2) that reaches the pixel threshold 0.1; a second, weak
  // component (peak 0.3 over 0.16) is measured at its own half maximum 0.15: all of it
  const src: MapSource = { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } };
  const halo: Paint = { x: 10, y: 10, w: 20, h: 16, value: 0.2 };
  const core: Paint = { x: 18, y: 14, w: 4, h: 3, value: 0.9 };
  const weak: Paint = { x: 44, y: 40, w: 8, h: 6, value: 0.16 };
  const map = paint(S, [halo, core, weak], 0);
  map[42 * S + 47] = 0.3;
  const opts = { pixelThreshold: 0.1, minAreaPct: 0 };
  const whole = extractRegions(map, S, src, opts).regions;
  const tight = extractRegions(map, S, src, { ...opts, extent: 'half-max' }).regions;
  assert.deepEqual(
    whole.map((r) => [r.x, r.y, r.width, r.height, r.areaPx]),
    [
      [halo.x, halo.y, halo.w, halo.h, halo.w * halo.h],
      [weak.x, weak.y, weak.w, weak.h, weak.w * weak.h],
    ],
  );
  assert.deepEqual(
    tight.map((r) => [r.x, r.y, r.width, r.height, r.areaPx]),
    [
      [core.x, core.y, core.w, core.h, core.w * core.h],
      [weak.x, weak.y, weak.w, weak.h, weak.w * weak.h],
    ],
  );
  // the core's centroid and mean are its own; the peak is the component's either way
  assert.deepEqual(tight[0].centroid, { x: core.x + core.w / 2, y: core.y + core.h / 2 });
  assert.ok(Math.abs(tight[0].meanScore - 0.9) < 1e-6);
  assert.equal(tight[0].maxScore, whole[0].maxScore);
  // the set of regions is the same: only what each one measures changed
  assert.equal(tight.length, whole.length);
});
