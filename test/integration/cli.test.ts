import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/shared.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

test('--help works for the program and every command', () => {
  const top = cli('--help');
  assert.equal(top.status, 0, top.stderr);
  for (const cmd of ['run', 'infer', 'doctor', 'export', 'build-engine', 'eval', 'bench'])
    assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
  const expectations: Record<string, RegExp[]> = {
    run: [/--config/],
    infer: [/--bundle/, /--class/, /--out/, /--json/],
    doctor: [/--config/],
    'build-engine': [/--bundle/, /--precision/],
    eval: [/--bundle/, /--class/],
  };
  for (const [cmd, patterns] of Object.entries(expectations)) {
    const r = cli(cmd, '--help');
    assert.equal(r.status, 0, `${cmd} --help: ${r.stderr}`);
    for (const p of patterns) assert.match(r.stdout, p, `${cmd} --help lacks ${p}`);
  }
});

test('a missing required option or unknown command fails with a message', () => {
  const r = cli('run');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--config/);
  const u = cli('frobnicate');
  assert.notEqual(u.status, 0);
  assert.match(u.stderr, /unknown command/);
});

test('run with a bad config lists every problem and exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    'model: {}\ncameras:\n  - id: cam1\n    source: { kind: webcam }\ndashboard: { port: -5 }\n',
  );
  const r = cli('run', '--config', file);
  assert.equal(r.status, 2);
  for (const key of ['model.bundle', 'cameras[0].className', 'cameras[0].source', 'dashboard.port']) {
    assert.ok(r.stderr.includes(key), `missing ${key} in:\n${r.stderr}`);
  }
});

test('doctor prints one line per check and fails for a config that cannot run', () => {
  const plain = cli('doctor');
  assert.equal(plain.status, 0, plain.stdout + plain.stderr);
  assert.match(plain.stdout, /^ok\s+node/m);
  assert.match(plain.stdout, /^ok\s+opencv\s+OpenCV 4\./m);
  const dir = mkdtempSync(join(tmpdir(), 'doc-'));
  const file = join(dir, 'cfg.yaml');
  writeFileSync(
    file,
    `model: { bundle: ${join(dir, 'no-such-bundle')} }\ncameras:\n  - { id: c1, className: x, source: { kind: folder, path: ${join(dir, 'nope')} } }\n`,
  );
  const r = cli('doctor', '--config', file);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, /^FAIL bundle/m);
  assert.match(r.stdout, /^FAIL camera c1\s+folder .* does not exist/m);
});

test(
  'eval scores a labelled folder and reports AUROC; a folder without good/ is refused',
  { timeout: 120_000 },
  (t) => {
    const bundle = join(ROOT, 'models', 'bundles', 'demo-untrained');
    if (!existsSync(join(bundle, 'manifest.json')))
      return t.skip('demo bundle missing: run scripts/setup.sh');
    const cv = loadOpenCV();
    const dir = mkdtempSync(join(tmpdir(), 'eval-'));
    for (const [sub, n] of [
      ['good', 3],
      ['scratch', 2],
    ] as const) {
      mkdirSync(join(dir, sub));
      for (let i = 0; i < n; i++) {
        const img = new cv.Mat(120, 160, cv.CV_8UC3, [100 + i * 10, 100, 100]);
        if (sub === 'scratch')
          img.drawLine(new cv.Point2(10, 10), new cv.Point2(150, 110), new cv.Vec3(255, 255, 255), 3);
        cv.imwrite(join(dir, sub, `${i}.png`), img);
      }
    }
    const r = cli('eval', '--bundle', bundle, '--class', 'screw', dir);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | boolean>;
    assert.equal(out.images, 5);
    assert.equal(out.defective, 2);
    assert.equal(out.untrained, true);
    for (const k of ['auroc', 'aurocWithoutHsf'])
      assert.ok((out[k] as number) >= 0 && (out[k] as number) <= 1, `${k}=${out[k]}`);
    assert.match(r.stderr, /untrained/);
    const bad = cli('eval', '--bundle', bundle, '--class', 'screw', join(dir, 'good'));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /needs a "good" sub-folder/);
  },
);
