// Pixel metrics over a test set's maps: ours (AUROC, AP, F1-max and AUPRO from one sort per class)
// against the official AdaCLIP evaluation's sklearn calls on the same maps (roc_auc_score,
// precision_recall_curve for F1-max, average_precision_score; sklearn has no AUPRO), timed inside
// Python so process start and loading are left out. The maps: 518 x 518, 5 % defective pixels in
// rectangles, scores with ties (float32 rounded to 1e-4), as a real set's smoothed maps have.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskRegions } from '../../eval/ground-truth.js';
import { PixelMetricsAccumulator } from '../../eval/pixel-metrics.js';
import { writeNpy } from '../../util/npy.js';
import { summarize, type Benchmark } from '../harness.js';

const S = 518;
const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';

function testSet(images: number): { maps: Float32Array[]; masks: Uint8Array[]; defective: number } {
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const maps: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  let defective = 0;
  for (let k = 0; k < images; k++) {
    const map = new Float32Array(S * S);
    const mask = new Uint8Array(S * S);
    for (let i = 0; i < map.length; i++) map[i] = Math.round(rnd() * 0.6 * 1e4) / 1e4;
    if (k % 2) {
      // about 10 % of a defective image's pixels, so 5 % of the set's
      for (let r = 0; r < 2; r++) {
        const w = 80 + Math.floor(rnd() * 40);
        const x0 = Math.floor(rnd() * (S - w));
        const y0 = Math.floor(rnd() * (S - w));
        for (let y = y0; y < y0 + w; y++)
          for (let x = x0; x < x0 + w; x++) {
            if (!mask[y * S + x]) defective++;
            mask[y * S + x] = 1;
            map[y * S + x] = Math.round((0.3 + rnd() * 0.7) * 1e4) / 1e4;
          }
      }
    }
    maps.push(map);
    masks.push(mask);
  }
  return { maps, masks, defective };
}

function ours(images: number, runs: number) {
  const set = testSet(images);
  const samples: number[] = [];
  let rssMb = 0;
  for (let run = 0; run < runs; run++) {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const acc = new PixelMetricsAccumulator({
      normal: images * S * S - set.defective,
      defective: set.defective,
    });
    set.maps.forEach((m, k) => acc.add(m, k % 2 ? maskRegions(set.masks[k], S) : undefined));
    acc.compute();
    samples.push(performance.now() - t0);
    rssMb = Math.max(rssMb, (process.memoryUsage().rss - rss0) / 2 ** 20);
  }
  return { samples, rssMb, pixels: images * S * S };
}

const SKLEARN = `
import sys, json, time
import numpy as np
from sklearn.metrics import roc_auc_score, precision_recall_curve, average_precision_score
maps = np.load(sys.argv[1]).ravel(); masks = np.load(sys.argv[2]).ravel()
wall = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    roc_auc_score(masks, maps)
    p, r, _ = precision_recall_curve(masks, maps)
    f = 2 * p * r / (p + r); np.max(f[np.isfinite(f)])
    average_precision_score(masks, maps)
    wall.append((time.perf_counter() - t0) * 1000)
print(json.dumps(wall))
`;

function sklearn(images: number, runs: number): number[] {
  const set = testSet(images);
  const dir = mkdtempSync(join(tmpdir(), 'bench-eval-'));
  try {
    const maps = new Float32Array(images * S * S);
    const masks = new Uint8Array(images * S * S);
    set.maps.forEach((m, k) => maps.set(m, k * S * S));
    set.masks.forEach((m, k) => masks.set(m, k * S * S));
    writeNpy(join(dir, 'maps.npy'), maps, [images, S, S]);
    writeNpy(join(dir, 'masks.npy'), masks, [images, S, S]);
    const res = spawnSync(
      PYTHON,
      ['-c', SKLEARN, join(dir, 'maps.npy'), join(dir, 'masks.npy'), String(runs)],
      {
        encoding: 'utf8',
        timeout: 1_200_000,
        maxBuffer: 1 << 20,
      },
    );
    if (res.status !== 0)
      throw new Error(`${PYTHON} exited with ${res.status}: ${res.error?.message ?? res.stderr}`);
    return JSON.parse(res.stdout) as number[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'eval.ours.pixel_metrics_100x518',
    description:
      'ms for pixel AUROC, AP, F1-max and AUPRO over 100 maps of 518x518 (26.8M scores, 5 % defective, ties); rssGrowthMb: memory it took',
    async run() {
      const r = ours(100, 3);
      return summarize('eval.ours.pixel_metrics_100x518', 'ms', r.samples, {
        pixels: r.pixels,
        rssGrowthMb: Math.round(r.rssMb),
      });
    },
  },
  {
    name: 'eval.sklearn.pixel_metrics_100x518',
    description:
      'ms for the official AdaCLIP pixel metrics on the same maps: sklearn roc_auc_score + precision_recall_curve F1-max + average_precision_score (no AUPRO)',
    async run() {
      return summarize('eval.sklearn.pixel_metrics_100x518', 'ms', sklearn(100, 2));
    },
  },
  {
    name: 'eval.ours.pixel_metrics_370x518',
    description: 'ms for the same four pixel metrics over 370 maps of 518x518 (99.3M scores); rssGrowthMb',
    long: true,
    async run() {
      const r = ours(370, 1);
      return summarize('eval.ours.pixel_metrics_370x518', 'ms', r.samples, {
        pixels: r.pixels,
        rssGrowthMb: Math.round(r.rssMb),
      });
    },
  },
];
