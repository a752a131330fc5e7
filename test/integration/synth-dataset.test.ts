// `adaclip-edge synth`: labelled frames of the synthetic line in the MVTec AD layout. The same seed
// writes the same bytes; every mask is the renderer's truth (checked against the same part drawn
// without its defect), every box in parts.jsonl is the box of the drawn pixels, and eval reads the
// folder as it reads MVTec AD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Mat } from '@u4/opencv4nodejs';
import { ROOT } from '../helpers/fixtures.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { planDatasetImage, sceneOptions, type DatasetOptions } from '../../src/sources/synthetic/dataset.js';
import { SyntheticRenderer } from '../../src/sources/synthetic/render.js';
import { minDefectAreaPx, type PartsRecord } from '../../src/sources/synthetic/write-dataset.js';
import { readTestSet } from '../../src/eval/mvtec-layout.js';

const cv = loadOpenCV();
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const synth = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'synth', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

const OPTS: DatasetOptions = {
  width: 320,
  height: 240,
  seed: 5,
  count: 40,
  trainGood: 6,
  defectRate: 0.6,
  kinds: ['nut', 'screw', 'pcb'],
  partScale: 0.45,
};
const args = (o: DatasetOptions, out: string) => [
  '--out',
  out,
  '--count',
  String(o.count),
  '--train-good',
  String(o.trainGood),
  '--seed',
  String(o.seed),
  '--defect-rate',
  String(o.defectRate),
  '--kinds',
  o.kinds.join(','),
  '--size',
  `${o.width}x${o.height}`,
  '--part-scale',
  String(o.partScale),
];

function filesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

function readRecords(dir: string): PartsRecord[] {
  return readFileSync(join(dir, 'parts.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as PartsRecord);
}

function boxOfNonZero(mask: Mat) {
  const pts = mask.findNonZero();
  if (pts.length === 0) return undefined;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x + 1, height: Math.max(...ys) - y + 1 };
}

const dirs = (() => {
  const base = mkdtempSync(join(tmpdir(), 'synth-'));
  return { a: join(base, 'a'), b: join(base, 'b'), other: join(base, 'other'), base };
})();
let made = false;
function makeA(): void {
  if (made) return;
  const r = synth(...args(OPTS, dirs.a));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote 46 images/);
  made = true;
}

test('the same seed writes the same bytes; another seed a different set', { timeout: 300_000 }, () => {
  makeA();
  const again = synth(...args(OPTS, dirs.b));
  assert.equal(again.status, 0, again.stderr);
  const a = filesOf(dirs.a);
  const b = filesOf(dirs.b);
  assert.ok(a.size > 46, `only ${a.size} files`);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [file, hash] of a) assert.equal(b.get(file), hash, `${file} differs between two runs`);
  const other = synth(...args({ ...OPTS, seed: 6 }, dirs.other));
  assert.equal(other.status, 0, other.stderr);
  const o = filesOf(dirs.other);
  const same = [...a].filter(([f, h]) => f.endsWith('.png') && o.get(f) === h).length;
  assert.equal(same, 0, `${same} images are identical under another seed`);
});

test(
  'MVTec layout, labels and masks are the renderer truth; boxes are those of the drawn pixels',
  { timeout: 300_000 },
  () => {
    makeA();
    const records = readRecords(dirs.a);
    assert.equal(records.length, OPTS.count + OPTS.trainGood);
    const meta = JSON.parse(readFileSync(join(dirs.a, 'synth.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(meta.seed, OPTS.seed);
    assert.deepEqual(meta.kinds, OPTS.kinds);
    const renderer = { test: new SyntheticRenderer(sceneOptions(OPTS, 'test')) };
    const kindsSeen = new Set<string>();
    const defectsSeen = new Set<string>();
    let defective = 0;
    for (const r of records) {
      const img = cv.imread(join(dirs.a, r.file));
      assert.equal(img.cols, OPTS.width);
      assert.equal(img.rows, OPTS.height);
      const subject = r.parts.filter((p) => p.subject);
      assert.equal(subject.length, 1, `${r.file}: one subject part`);
      kindsSeen.add(subject[0].kind);
      assert.ok(
        r.parts.every((p) => p.subject || !p.defect),
        `${r.file}: a neighbour carries a defect`,
      );
      for (const p of r.parts) {
        assert.ok(
          p.box.x >= 0 &&
            p.box.y >= 0 &&
            p.box.x + p.box.width <= OPTS.width &&
            p.box.y + p.box.height <= OPTS.height,
        );
      }
      if (r.split === 'train') {
        assert.equal(r.label, 0);
        assert.match(r.file, /^train\/good\//);
        continue;
      }
      // the same parts drawn without the subject's defect: what the defect changed is the truth
      const n = Number(r.file.match(/(\d+)\.png$/)![1]);
      const plan = planDatasetImage(OPTS, 'test', n, renderer.test.beltPeriod);
      assert.equal(plan.subject.index, r.subject);
      const clean = renderer.test.renderParts(
        plan.parts.map((p) => ({ ...p, defect: undefined })),
        plan.beltOffset,
      );
      const changed = img
        .absdiff(clean.image)
        .cvtColor(cv.COLOR_BGR2GRAY)
        .threshold(0, 255, cv.THRESH_BINARY);
      if (r.label === 0) {
        assert.equal(r.defect, 'good');
        assert.match(r.file, /^test\/good\//);
        assert.equal(subject[0].defect, undefined);
        assert.equal(changed.countNonZero(), 0, `${r.file}: a good image differs from its parts drawn clean`);
        continue;
      }
      defective++;
      defectsSeen.add(r.defect);
      assert.equal(r.file, `test/${r.defect}/${String(n).padStart(2, '0')}.png`);
      assert.equal(r.mask, `ground_truth/${r.defect}/${String(n).padStart(2, '0')}_mask.png`);
      assert.equal(subject[0].defect?.kind, r.defect);
      const mask = cv.imread(join(dirs.a, r.mask!), cv.IMREAD_GRAYSCALE);
      const values = new Set(mask.getData());
      assert.deepEqual([...values].sort(), [0, 255], `${r.mask}: 0 and 255 only`);
      const outside = changed.bitwiseAnd(mask.bitwiseNot()).countNonZero();
      assert.equal(outside, 0, `${r.file}: ${outside} changed pixels outside the mask`);
      const maskPx = mask.countNonZero();
      assert.equal(subject[0].defect?.areaPx, maskPx);
      assert.ok(
        maskPx >= minDefectAreaPx(OPTS),
        `${r.file}: a sliver of a defect (${maskPx} px) labelled defective`,
      );
      assert.ok(
        changed.countNonZero() >= 0.4 * maskPx,
        `${r.file}: the defect changed few of its mask pixels`,
      );
      assert.deepEqual(subject[0].defect?.box, boxOfNonZero(mask), `${r.file}: defect box`);
      const sb = subject[0].box;
      const db = subject[0].defect!.box;
      assert.ok(
        db.x >= sb.x &&
          db.y >= sb.y &&
          db.x + db.width <= sb.x + sb.width &&
          db.y + db.height <= sb.y + sb.height,
      );
    }
    assert.ok(defective >= 15, `${defective} defective images of ${OPTS.count}`);
    assert.deepEqual([...kindsSeen].sort(), ['nut', 'pcb', 'screw']);
    assert.deepEqual([...defectsSeen].sort(), ['dent', 'missing', 'scratch']);
    const set = readTestSet(dirs.a);
    assert.equal(set.images.length, OPTS.count);
    assert.equal(set.images.filter((i) => i.label === 1).length, defective);
  },
);

test('--kinds restricts the parts, --defect-rate 0 writes good images only', { timeout: 300_000 }, () => {
  const out = join(dirs.base, 'nuts');
  const r = synth(...args({ ...OPTS, kinds: ['nut'], defectRate: 0, count: 12, trainGood: 2 }, out));
  assert.equal(r.status, 0, r.stderr);
  const records = readRecords(out);
  assert.ok(records.every((x) => x.parts.every((p) => p.kind === 'nut')));
  assert.ok(records.every((x) => x.label === 0));
  assert.deepEqual(readdirSync(join(out, 'test')), ['good']);
});

test('bad options and a non-empty folder are refused with the reason', { timeout: 300_000 }, () => {
  const full = join(dirs.base, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'x.txt'), 'x');
  const cases: [string[], RegExp][] = [
    [args({ ...OPTS, count: 2 }, full), /exists and is not empty/],
    [['--out', join(dirs.base, 'k'), '--count', '2', '--seed', '1', '--kinds', 'nut,bolt'], /unknown: bolt/],
    [['--out', join(dirs.base, 's'), '--count', '2', '--seed', '1', '--size', '640'], /WIDTHxHEIGHT/],
    [['--out', join(dirs.base, 's2'), '--count', '2', '--seed', '1', '--size', '32x32'], /from 64 to 8192/],
    [['--out', join(dirs.base, 'c'), '--count', '-1', '--seed', '1'], /--count: expected a whole number/],
    [['--out', join(dirs.base, 'r'), '--count', '2', '--seed', '1', '--defect-rate', '2'], /--defect-rate/],
    [['--out', join(dirs.base, 'p'), '--count', '2', '--seed', '1', '--part-scale', '0.9'], /part scale 0.9/],
    [['--out', join(dirs.base, 'e'), '--count', '0', '--train-good', '0', '--seed', '1'], /nothing to write/],
  ];
  for (const [a, why] of cases) {
    const r = synth(...a);
    assert.equal(r.status, 2, `${a.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, why);
  }
});
