// `adaclip-edge eval` end to end with the tiny untrained bundle (real onnxruntime, HSF, smoothing) on
// an MVTec AD layout written by OpenCV: every metric equals scikit-learn's (and the AUPRO reference)
// computed from the saved maps and the original mask files; the CSV and the grid are written; bad
// folders are refused with every problem named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { writeMvtecFolder } from '../helpers/mvtec-folder.js';
import { referenceMetrics, type ReferenceImage } from '../helpers/metrics-reference.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

function bundlePresent(): void {
  assert.ok(
    existsSync(join(BUNDLE, 'manifest.json')),
    `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
  );
}

test('eval --json equals sklearn and the AUPRO reference on the real maps', { timeout: 300_000 }, () => {
  bundlePresent();
  const dir = mkdtempSync(join(tmpdir(), 'eval-cli-'));
  const data = join(dir, 'screw');
  // at the bundle's map size (224) the reference reads the original mask files, untouched by our resize
  writeMvtecFolder(data, { good: 6, defects: { scratch: 4, hole: 3 }, width: 224, height: 224, seed: 5 });
  const out = join(dir, 'out');
  const r = cli('eval', '--bundle', BUNDLE, '--class', 'screw', '--json', '--save-maps', '--out', out, data);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.match(r.stderr, /eval: 13\/13 images \(100%\)/, 'progress on stderr');
  assert.match(r.stderr, /untrained/);
  for (const [k, v] of Object.entries({ images: 13, goodImages: 6, defectiveImages: 7, mapSize: 224 }))
    assert.equal(report[k], v, k);

  const csv = readFileSync(join(out, 'per-image.csv'), 'utf8').trim().split('\n');
  const header = csv[0].split(',');
  const col = (row: string[], name: string) => row[header.indexOf(name)];
  assert.equal(csv.length, 14);
  const items: ReferenceImage[] = csv.slice(1).map((line) => {
    const row = line.split(',');
    const label = Number(col(row, 'label')) as 0 | 1;
    const file = col(row, 'file');
    const [, kind, name] = file.split('/');
    return {
      score: Number(col(row, 'score')),
      label,
      map: col(row, 'map'),
      mask: label ? join(data, 'ground_truth', kind, name.replace('.png', '_mask.png')) : undefined,
    };
  });
  const want = referenceMetrics(items, dir);
  for (const k of [
    'imageAuroc',
    'imageAp',
    'imageF1Max',
    'pixelAuroc',
    'pixelAupro',
    'pixelF1Max',
  ] as const) {
    const got = report[k] as number;
    assert.ok(Math.abs(got - want[k]) <= 1e-6, `${k}: eval ${got}, reference ${want[k]}`);
  }
  assert.equal(report.regions, want.regions);

  const grid = loadOpenCV().imread(join(out, 'worst.png'));
  assert.equal(grid.cols, 768, 'three 256-pixel columns');
  const t = report.threshold as { falsePositives: number; falseNegatives: number };
  assert.equal(
    grid.rows,
    48 + Math.max(1, Math.min(4, t.falsePositives) + Math.min(4, t.falseNegatives)) * 280,
  );
});

test(
  'eval refuses folders that are not a complete MVTec AD layout, naming each problem',
  { timeout: 300_000 },
  () => {
    bundlePresent();
    const dir = mkdtempSync(join(tmpdir(), 'eval-bad-'));
    const noTest = cli('eval', '--bundle', BUNDLE, '--class', 'screw', dir);
    assert.equal(noTest.status, 2);
    assert.match(noTest.stderr, /no test\/ folder \(expected the MVTec AD layout/);

    const data = join(dir, 'nut');
    writeMvtecFolder(data, { good: 2, defects: { crack: 2 }, seed: 7 });
    rmSync(join(data, 'ground_truth', 'crack', '001_mask.png'));
    const noMask = cli('eval', '--bundle', BUNDLE, '--class', 'nut', data);
    assert.equal(noMask.status, 2);
    assert.match(
      noMask.stderr,
      /test\/crack\/001\.png: its ground-truth mask .*ground_truth\/crack\/001_mask\.png does not exist/,
    );

    // an unreadable image and a mask of another size: both reported by one run, no metrics printed
    const cv = loadOpenCV();
    cv.imwrite(join(data, 'ground_truth', 'crack', '001_mask.png'), new cv.Mat(50, 50, cv.CV_8UC1, 255));
    writeFileSync(join(data, 'test', 'good', '001.png'), 'not a png');
    const bad = cli('eval', '--bundle', BUNDLE, '--class', 'nut', '--json', '--out', join(dir, 'o'), data);
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /2 problems/);
    assert.match(bad.stderr, /test\/good\/001\.png: not a readable image/);
    assert.match(bad.stderr, /001_mask\.png: the mask is 50x50 but its image is 160x120/);

    const badThreshold = cli('eval', '--bundle', BUNDLE, '--class', 'nut', '--threshold', '1.5', data);
    assert.equal(badThreshold.status, 2);
    assert.match(badThreshold.stderr, /--threshold: expected a number from 0 to 1, got "1.5"/);
  },
);
