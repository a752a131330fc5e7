// Our image and pixel metrics against scikit-learn (and the scipy/sklearn AUPRO reference) within
// 1e-6, on random maps with and without ties and with regions that touch only at a corner (which
// 8-connectivity joins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageMetrics } from '../../src/eval/image-metrics.js';
import { PixelMetricsAccumulator } from '../../src/eval/pixel-metrics.js';
import { maskRegions } from '../../src/eval/ground-truth.js';
import { writeNpy } from '../../src/util/npy.js';
import { mulberry32 } from '../../src/util/prng.js';
import { referenceMetrics, type ReferenceImage } from '../helpers/metrics-reference.js';

interface Case {
  maps: Float32Array[];
  masks: (Uint8Array | undefined)[];
  scores: number[];
  labels: (0 | 1)[];
}

/** n images of S x S; defective ones carry 1-3 rectangles, one pair touching at a corner. */
function randomCase(seed: number, n: number, S: number, quantum: number): Case {
  const rnd = mulberry32(seed);
  const q = (x: number) => (quantum > 0 ? Math.round(x / quantum) * quantum : x);
  const c: Case = { maps: [], masks: [], scores: [], labels: [] };
  for (let k = 0; k < n; k++) {
    const defective = k % 3 !== 0 ? 1 : 0;
    const map = new Float32Array(S * S);
    for (let i = 0; i < map.length; i++) map[i] = q(rnd() * 0.6);
    let mask: Uint8Array | undefined;
    if (defective) {
      mask = new Uint8Array(S * S);
      const rects = 1 + Math.floor(rnd() * 3);
      for (let r = 0; r < rects; r++) {
        const w = 2 + Math.floor(rnd() * S * 0.3);
        const h = 2 + Math.floor(rnd() * S * 0.3);
        const x0 = Math.floor(rnd() * (S - w));
        const y0 = Math.floor(rnd() * (S - h));
        for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) mask[y * S + x] = 1;
      }
      if (k % 4 === 1) {
        // two squares meeting only at a corner: one region under 8-connectivity, two under 4
        for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) mask[y * S + x] = 1;
        for (let y = 3; y < 6; y++) for (let x = 3; x < 6; x++) mask[y * S + x] = 1;
      }
      for (let i = 0; i < map.length; i++) if (mask[i]) map[i] = q(map[i] + rnd() * 0.5);
    }
    c.maps.push(map);
    c.masks.push(mask);
    c.scores.push(q(0.3 * rnd() + 0.4 * defective * rnd()));
    c.labels.push(defective);
  }
  return c;
}

function ours(c: Case, S: number) {
  let defective = 0;
  for (const m of c.masks) if (m) for (const v of m) defective += v;
  const acc = new PixelMetricsAccumulator({ normal: c.maps.length * S * S - defective, defective });
  c.maps.forEach((map, k) => acc.add(map, c.masks[k] ? maskRegions(c.masks[k]!, S) : undefined));
  const px = acc.compute();
  const im = imageMetrics(c.scores, c.labels);
  return {
    imageAuroc: im.auroc,
    imageAp: im.ap,
    imageF1Max: im.f1Max,
    pixelAuroc: px.auroc,
    pixelAp: px.ap,
    pixelF1Max: px.f1Max,
    pixelAupro: px.aupro,
    regions: acc.regions,
  };
}

function reference(c: Case, S: number, dir: string) {
  const items: ReferenceImage[] = c.maps.map((map, k) => {
    const item: ReferenceImage = { score: c.scores[k], label: c.labels[k], map: join(dir, `${k}.npy`) };
    writeNpy(item.map, map, [S, S]);
    if (c.masks[k]) {
      item.mask = join(dir, `${k}.mask.npy`);
      writeNpy(item.mask, c.masks[k]!, [S, S]);
    }
    return item;
  });
  return referenceMetrics(items, dir);
}

for (const [name, seed, n, S, quantum] of [
  ['continuous scores', 1, 24, 40, 0],
  ['scores with many ties', 2, 30, 32, 0.05],
  ['coarse ties, larger maps', 3, 12, 96, 0.01],
] as const) {
  test(`image and pixel metrics equal sklearn's within 1e-6: ${name}`, { timeout: 120_000 }, () => {
    const c = randomCase(seed, n, S, quantum);
    const dir = mkdtempSync(join(tmpdir(), 'eval-ref-'));
    const got = ours(c, S);
    const want = reference(c, S, dir);
    assert.equal(got.regions, want.regions, 'region count (8-connected)');
    for (const key of Object.keys(want) as (keyof typeof want)[]) {
      assert.ok(Math.abs(got[key] - want[key]) <= 1e-6, `${key}: ours ${got[key]}, reference ${want[key]}`);
    }
    // the metrics are not trivially 0 or 1 here: the comparison has something to compare
    assert.ok(got.pixelAupro > 0.05 && got.pixelAupro < 0.95, `aupro ${got.pixelAupro}`);
    assert.ok(got.imageAuroc > 0.5 && got.imageAuroc < 1, `image auroc ${got.imageAuroc}`);
  });
}
