// Connected regions on random blob maps against scipy.ndimage (label with 8-connectivity,
// find_objects, sum, maximum, mean, center_of_mass), run by /usr/bin/python3 during the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractRegions } from '../../src/postprocess/regions.js';
import { requirePython } from '../helpers/require-tools.js';

const PY = '/usr/bin/python3';

const SCRIPT = `
import json, sys
import numpy as np
from scipy import ndimage
S, thr = int(sys.argv[2]), float(sys.argv[3])
m = np.fromfile(sys.argv[1], dtype=np.float32).reshape(S, S)
lab, n = ndimage.label(m >= thr, structure=np.ones((3, 3)))
idx = list(range(1, n + 1))
out = []
if n:
    areas = ndimage.sum(np.ones_like(m), lab, idx)
    maxs = ndimage.maximum(m, lab, idx)
    means = ndimage.mean(m, lab, idx)
    coms = ndimage.center_of_mass(np.ones_like(m), lab, idx)
    for i, sl in enumerate(ndimage.find_objects(lab)):
        ys, xs = sl
        out.append(dict(x=xs.start, y=ys.start, w=xs.stop - xs.start, h=ys.stop - ys.start, area=int(areas[i]),
                        max=float(maxs[i]), mean=float(means[i]), cx=float(coms[i][1]), cy=float(coms[i][0])))
print(json.dumps(out))
`;

/** Deterministic blobs: a few gaussian bumps plus noise (mulberry32). */
function blobMap(S: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const m = new Float32Array(S * S);
  const bumps = Array.from({ length: 12 }, () => ({
    x: rnd() * S,
    y: rnd() * S,
    r: 1 + rnd() * 6,
    a: 0.4 + rnd() * 0.6,
  }));
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      let v = rnd() * 0.15;
      for (const b of bumps) v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r));
      m[y * S + x] = v;
    }
  return m;
}

for (const seed of [1, 2, 3, 4]) {
  test(`regions match scipy.ndimage on random blobs (seed ${seed})`, () => {
    requirePython(['numpy', 'scipy.ndimage'], PY);
    const S = 96;
    const thr = 0.5;
    const map = blobMap(S, seed);
    const dir = mkdtempSync(join(tmpdir(), 'regions-'));
    const file = join(dir, 'map.f32');
    writeFileSync(file, Buffer.from(map.buffer));
    const py = spawnSync(PY, ['-c', SCRIPT, file, String(S), String(thr)], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const want = JSON.parse(py.stdout) as {
      x: number;
      y: number;
      w: number;
      h: number;
      area: number;
      max: number;
      mean: number;
      cx: number;
      cy: number;
    }[];
    assert.ok(want.length >= 2, `seed ${seed} should make several regions, made ${want.length}`);
    // identity geometry: one map pixel = one frame pixel
    const got = extractRegions(
      map,
      S,
      { width: S, height: S, roi: { x: 0, y: 0, width: S, height: S } },
      {
        pixelThreshold: thr,
        minAreaPct: 0,
        maxRegions: 1000,
      },
    );
    assert.equal(got.total, want.length);
    const key = (r: { x: number; y: number }) => r.y * S + r.x;
    const g = [...got.regions].sort((a, b) => key(a) - key(b) || a.areaPx - b.areaPx);
    const w = [...want].sort((a, b) => key(a) - key(b) || a.area - b.area);
    g.forEach((r, i) => {
      const e = w[i];
      assert.deepEqual([r.x, r.y, r.width, r.height, r.areaPx], [e.x, e.y, e.w, e.h, e.area], `region ${i}`);
      assert.ok(Math.abs(r.maxScore - e.max) < 1e-6);
      assert.ok(Math.abs(r.meanScore - e.mean) < 1e-5);
      // scipy's centre of mass is in pixel-index coordinates; ours puts pixel centres at +0.5
      assert.ok(Math.abs(r.centroid.x - (e.cx + 0.5)) < 0.01);
      assert.ok(Math.abs(r.centroid.y - (e.cy + 0.5)) < 0.01);
    });
  });
}
