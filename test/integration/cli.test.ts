import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';

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
    eval: [/--bundle/, /--class/, /--json/, /--out/],
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
