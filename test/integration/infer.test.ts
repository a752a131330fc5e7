// `adaclip-edge infer` end to end: the CLI (compiled main.js, or the sources through tsx) on a bundle
// made by the real exporter, with good and bad inputs; and runInfer on the official fixture bundle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE, ROOT, VOCAB } from '../helpers/fixtures.js';
import {
  TINY_ARCH,
  exportBundle,
  maxAbsDiff,
  seededNormal,
  writeArch,
  writeBytesOnlyVocab,
} from '../helpers/export-bundle.js';
import { readNpy, writeNpy } from '../../src/util/npy.js';
import { gaussianFilter } from '../../src/postprocess/gaussian.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { runInfer } from '../../src/cli/infer.js';
import { createLogger } from '../../src/util/log.js';

let work = '';
let bundleDir = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'adaclip-infer-'));
  bundleDir = exportBundle(join(work, 'bundle'), [
    '--random-init',
    '7',
    '--arch',
    writeArch(work, TINY_ARCH),
    '--image-size',
    '84',
    '--vocab',
    writeBytesOnlyVocab(join(work, 'vocab_bytes_only.txt.gz')),
  ]);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The CLI as a user runs it: dist/src/cli/main.js when the tests are compiled, else tsx on the source. */
function cli(args: string[]) {
  const compiled = fileURLToPath(import.meta.url).endsWith('.js');
  const [cmd, pre] = compiled
    ? [process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js')]]
    : [process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')]];
  return spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}

test('infer CLI: JSON line per input, maps and overlay written, bad inputs reported, others go on', async () => {
  const cv = loadOpenCV();
  const png = join(work, 'part.png');
  const pixels = Buffer.alloc(120 * 90 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7919) % 251;
  cv.imwrite(png, new cv.Mat(pixels, 90, 120, cv.CV_8UC3));
  const good = join(work, 'good.npy');
  writeNpy(good, seededNormal(3 * 84 * 84, 1), [3, 84, 84]);
  const wrong = join(work, 'wrong.npy');
  writeNpy(wrong, new Float32Array(3 * 10 * 10), [3, 10, 10]);
  const notImage = join(work, 'broken.png');
  writeFileSync(notImage, 'not a png');
  const missing = join(work, 'missing.npy');
  const out = join(work, 'out');

  const res = cli([
    'infer',
    '--bundle',
    bundleDir,
    '--class',
    'metal-nut',
    '--out',
    out,
    '--json',
    png,
    good,
    wrong,
    notImage,
    missing,
  ]);
  assert.equal(res.status, 1, res.stderr);
  assert.match(res.stderr, /UNTRAINED/);
  const lines = res.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  for (const line of lines.slice(0, 2)) {
    assert.equal(line.class, 'metal-nut');
    assert.equal(line.untrained, true);
    assert.ok(line.score >= 0 && line.score <= 1 && line.scoreWithoutHsf >= 0 && line.scoreWithoutHsf <= 1);
    const map = readNpy(line.map);
    const smooth = readNpy(line.mapSmoothed);
    assert.deepEqual(map.shape, [84, 84]);
    assert.equal(map.dtype, '<f4');
    assert.deepEqual([...smooth.data], [...gaussianFilter(map.data as Float32Array, 84, 84)]);
  }
  assert.equal(lines[0].input, png);
  assert.ok(lines[0].overlay && existsSync(lines[0].overlay));
  const overlay = cv.imread(lines[0].overlay);
  assert.deepEqual([overlay.rows, overlay.cols, overlay.channels], [84, 84, 3]);
  assert.equal(lines[1].overlay, undefined);
  assert.match(lines[2].error, /wrong\.npy: float32 \[3,10,10\], but this bundle needs float32 \[3,84,84\]/);
  assert.match(lines[3].error, /broken\.png: not a readable image/);
  assert.match(lines[4].error, /missing\.npy/);
});

test('infer CLI: a bundle that fails to load fails every input with its reason', () => {
  const res = cli([
    'infer',
    '--bundle',
    join(work, 'nope'),
    '--class',
    'screw',
    '--out',
    join(work, 'o2'),
    '--json',
    'a.npy',
  ]);
  assert.notEqual(res.status, 0);
  const line = JSON.parse(res.stdout.trim());
  assert.match(line.error, /model bundle .*nope: not a folder/);
});

test('runInfer on the official fixture bundle gives the official map', async () => {
  const dir = exportBundle(join(work, 'fixture126'), [
    '--clip',
    join(FIXTURE, 'weights', 'clip_state_dict.pt'),
    '--adaclip',
    join(FIXTURE, 'weights', 'adaclip_ckpt.pth'),
    '--arch',
    join(FIXTURE, 'model_config.json'),
    '--image-size',
    '126',
    '--vocab',
    VOCAB,
  ]);
  const lines: string[] = [];
  const code = await runInfer({
    bundle: dir,
    className: 'pill',
    outDir: join(work, 'fixture-out'),
    json: true,
    inputs: [join(FIXTURE, 'tiny_s126', 'inputs', 'pcb_pattern_512x384.npy')],
    threads: 1,
    logger: createLogger({ level: 'silent', pretty: 'never' }),
    write: (l) => lines.push(l),
  });
  assert.equal(code, 0);
  const line = JSON.parse(lines[0]);
  assert.equal(line.untrained, undefined);
  const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8'));
  const want = fixture.cases.tiny_s126.results.find(
    (r: any) => r.image === 'pcb_pattern_512x384' && r.class_name === 'pill',
  );
  assert.ok(Math.abs(line.scoreWithoutHsf - want.score_no_hsf) < 2e-5);
  const official = readNpy(join(FIXTURE, want.anomaly_map)).data as Float32Array;
  assert.ok(maxAbsDiff(readNpy(line.map).data as Float32Array, official) < 2e-5);
  const officialSmooth = readNpy(join(FIXTURE, want.anomaly_map_gauss4)).data as Float32Array;
  assert.ok(maxAbsDiff(readNpy(line.mapSmoothed).data as Float32Array, officialSmooth) < 2e-5);
});
