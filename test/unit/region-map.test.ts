// RegionMapper smooths only a window around the pixels that can reach the threshold. Checked against
// the full smoothing of the same map: the box's values bit for bit, everything outside below the
// threshold in both, and the extracted regions identical; blobs anywhere, at edges and corners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionMapper } from '../../src/postprocess/region-map.js';
import { extractRegions, MapError } from '../../src/postprocess/regions.js';
import type { MapSource } from '../../src/geometry/map-to-frame.js';

const S = 518;
const THRESHOLD = 0.5;
const src: MapSource = { width: 1920, height: 1080, roi: { x: 420, y: 0, width: 1080, height: 1080 } };
const regionOpts = { pixelThreshold: THRESHOLD, minAreaPct: 0, maxRegions: 50 };

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Background noise below the threshold plus `blobs` discs up to 0.95 (centres anywhere, radius 1-40). */
function mapWithBlobs(seed: number, blobs: number): Float32Array {
  const rnd = rng(seed);
  const m = new Float32Array(S * S);
  for (let i = 0; i < m.length; i++) m[i] = 0.45 * rnd();
  for (let b = 0; b < blobs; b++) {
    const cx = Math.floor(rnd() * S);
    const cy = Math.floor(rnd() * S);
    const r = 1 + Math.floor(rnd() * 40);
    const peak = 0.5 + 0.45 * rnd();
    for (let y = Math.max(0, cy - r); y < Math.min(S, cy + r + 1); y++)
      for (let x = Math.max(0, cx - r); x < Math.min(S, cx + r + 1); x++)
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) m[y * S + x] = peak * (0.8 + 0.2 * rnd());
  }
  return m;
}

function assertSameAsFull(mapper: RegionMapper, raw: Float32Array, what: string): string {
  const got = mapper.run(raw, THRESHOLD);
  const full = mapper.full.run(raw);
  if (got.smoothed === 'window') {
    const inBox = (x: number, y: number) =>
      got.boxes!.some((b) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = y * S + x;
        if (inBox(x, y)) {
          if (!Object.is(got.map[i], full[i]))
            assert.fail(`${what}: (${x},${y}) ${got.map[i]} != ${full[i]}`);
        } else if (!(got.map[i] < THRESHOLD && full[i] < THRESHOLD)) {
          assert.fail(`${what}: (${x},${y}) outside the box reaches the threshold`);
        }
      }
    }
  } else if (got.smoothed === 'full') {
    assert.deepEqual(got.map, full, what);
  } else {
    assert.equal(got.map, raw, `${what}: nothing to smooth returns the raw map itself`);
    assert.ok(
      full.every((v) => v < THRESHOLD),
      `${what}: the full smoothing has no defective pixel either`,
    );
  }
  assert.deepEqual(
    extractRegions(got.map, S, src, regionOpts),
    extractRegions(full, S, src, regionOpts),
    `${what}: regions`,
  );
  return got.smoothed;
}

test('window smoothing = full smoothing for regions: 60 maps with 1 to 3 blobs anywhere', () => {
  const mapper = new RegionMapper(S);
  const kinds = new Map<string, number>();
  let multiBox = 0;
  for (let seed = 1; seed <= 60; seed++) {
    if ((mapper.run(mapWithBlobs(seed, 1 + (seed % 3)), THRESHOLD).boxes?.length ?? 0) > 1) multiBox++;
    const kind = assertSameAsFull(mapper, mapWithBlobs(seed, 1 + (seed % 3)), `seed ${seed}`);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  // the maps exercise the window path mostly (the point of it), with several boxes, and the full path
  assert.ok((kinds.get('window') ?? 0) >= 30, JSON.stringify([...kinds]));
  assert.ok(multiBox >= 5, `maps with more than one box: ${multiBox}`);
});

test('blobs at the edges and corners: the reflect border is the full map’s', () => {
  const mapper = new RegionMapper(S);
  for (const [cx, cy] of [
    [0, 0],
    [S - 1, 0],
    [0, S - 1],
    [S - 1, S - 1],
    [3, 250],
    [250, S - 2],
  ]) {
    const m = mapWithBlobs(7, 0);
    for (let y = Math.max(0, cy - 10); y < Math.min(S, cy + 11); y++)
      for (let x = Math.max(0, cx - 10); x < Math.min(S, cx + 11); x++) m[y * S + x] = 0.9;
    assert.equal(assertSameAsFull(mapper, m, `blob at ${cx},${cy}`), 'window');
  }
});

test('nothing near the threshold: no smoothing; a large defect: one full smoothing', () => {
  const mapper = new RegionMapper(S);
  assert.equal(assertSameAsFull(mapper, mapWithBlobs(3, 0), 'clean'), 'none');
  const big = mapWithBlobs(4, 0);
  for (let i = 0; i < big.length; i += 7) big[i] = 0.8; // spread over the whole map
  assert.equal(assertSameAsFull(mapper, big, 'spread'), 'full');
});

test('a just-below-threshold pixel still gets smoothed (rounding margin); a NaN is reported', () => {
  const mapper = new RegionMapper(S);
  const m = mapWithBlobs(5, 0);
  m[100 * S + 100] = THRESHOLD - 1e-6;
  assert.equal(mapper.run(m, THRESHOLD).smoothed, 'window');
  m[200 * S + 300] = NaN;
  assert.throws(() => extractRegions(mapper.run(m, THRESHOLD).map, S, src, regionOpts), MapError);
});
