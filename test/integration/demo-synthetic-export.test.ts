// The path from trained weights to the demo-synthetic bundle, as setup takes it (issue 11): a tiny
// real training run (models/train/train.py, 2 + 2 steps on 20 `adaclip-edge synth` frames, Debian's
// python3-torch) writes throwaway weights and their training record into a temp folder;
// models/export/make_demo_bundle.sh exports them (ADACLIP_DEMO_* point it at the temp folders)
// to a bundle whose provenance is synthetic-trained with the record's facts, which loadBundle and
// `adaclip-edge infer` accept and say; a second run is a no-op; weights that are not the ones the
// record names (sha256) are refused by the script and by export.py itself; no weights: one line, skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../../src/model/bundle.js';
import { ROOT } from '../helpers/fixtures.js';
import { requirePython } from '../helpers/require-tools.js';

const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SCRIPT = join(ROOT, 'models', 'export', 'make_demo_bundle.sh');
const NOTE = 'trained on the synthetic line only, not the released AdaCLIP weights';
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

let work = '';
let weights = '';
let bundles = '';

function makeBundles(env: Record<string, string>) {
  return spawnSync('bash', [SCRIPT], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, ADACLIP_DEMO_ONLY: 'synthetic', ADACLIP_DEMO_BUNDLES: bundles, ...env },
  });
}

before(() => {
  requirePython(['torch', 'numpy', 'onnx']);
  work = mkdtempSync(join(tmpdir(), 'demo-synthetic-export-'));
  weights = join(work, 'weights');
  bundles = join(work, 'bundles');
  const data = join(work, 'synth');
  const s = spawnSync(
    process.execPath,
    [CLI, 'synth', '--out', data, '--count', '20', '--seed', '5', '--kinds', 'nut,screw'],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(s.status, 0, `synth failed:\n${s.stderr}`);
  const t = spawnSync(
    PYTHON,
    [join(ROOT, 'models', 'train', 'train.py'), '--data', data, '--stage1-steps', '2', '--steps', '2'].concat(
      ['--batch', '2', '--out', weights],
    ),
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  assert.equal(t.status, 0, `train.py failed:\n${t.stderr.slice(-3000)}`);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('make_demo_bundle.sh exports trained weights as a synthetic-trained bundle that loads and says so', async () => {
  const record = JSON.parse(readFileSync(join(weights, 'demo-synthetic.json'), 'utf8'));
  const r = makeBundles({ ADACLIP_DEMO_WEIGHTS: weights });
  assert.equal(r.status, 0, `make_demo_bundle.sh failed:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /exporting the demo model trained on the synthetic line/);
  assert.equal(existsSync(join(bundles, 'demo-untrained')), false, 'ADACLIP_DEMO_ONLY=synthetic');
  const dir = join(bundles, 'demo-synthetic');

  const b = await loadBundle(dir);
  const p = b.manifest.provenance;
  assert.equal(p.kind, 'synthetic-trained');
  assert.equal(b.untrained, false);
  assert.equal(b.demoNote, NOTE);
  assert.equal(b.manifest.architecture.name, 'demo');
  assert.equal(b.manifest.imageSize, record.imageSize);
  assert.equal(b.manifest.tokenizer.bytesOnly, true);
  assert.deepEqual(p.clip, {
    file: 'demo-synthetic-clip.pt',
    sha256: record.files['demo-synthetic-clip.pt'],
  });
  assert.deepEqual(p.adaclip, {
    file: 'demo-synthetic-adaclip.pt',
    sha256: record.files['demo-synthetic-adaclip.pt'],
  });
  assert.deepEqual(p.training, {
    record: 'demo-synthetic.json',
    sha256: sha256(join(weights, 'demo-synthetic.json')),
    note: NOTE,
    kinds: ['nut', 'screw'],
    trainSeeds: [5],
    steps: 4,
    seconds: record.seconds,
  });

  // it runs, and infer says what it is
  const inf = spawnSync(
    process.execPath,
    [CLI, 'infer', '--bundle', dir, '--class', 'nut', '--out', join(work, 'infer'), '--json'].concat([
      join(work, 'synth', 'test', 'good', readdirSync(join(work, 'synth', 'test', 'good'))[0]),
    ]),
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(inf.status, 0, inf.stderr);
  const line = JSON.parse(inf.stdout.trim().split('\n').pop()!);
  assert.ok(Number.isFinite(line.score));
  assert.equal(line.demoModel, NOTE);
  assert.match(
    inf.stderr,
    /Demo model: trained on the synthetic line only, not the released AdaCLIP weights/,
  );

  // idempotent: the stamp holds the weights' hashes, a second run exports nothing
  const stamp = readFileSync(join(bundles, '.demo-synthetic.stamp'), 'utf8');
  const onnxTime = statSync(join(dir, 'model.onnx')).mtimeMs;
  const again = makeBundles({ ADACLIP_DEMO_WEIGHTS: weights });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /up to date/);
  assert.equal(statSync(join(dir, 'model.onnx')).mtimeMs, onnxTime);
  assert.equal(readFileSync(join(bundles, '.demo-synthetic.stamp'), 'utf8'), stamp);
});

test('weights that are not the ones their record names are refused; no weights: one line, skipped', () => {
  const other = join(work, 'tampered');
  cpSync(weights, other, { recursive: true });
  appendFileSync(join(other, 'demo-synthetic-adaclip.pt'), Buffer.from([0]));
  const r = makeBundles({
    ADACLIP_DEMO_WEIGHTS: other,
    ADACLIP_DEMO_BUNDLES: join(work, 'bundles-tampered'),
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /demo-synthetic-adaclip\.pt: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} its training record/,
  );
  assert.equal(existsSync(join(work, 'bundles-tampered', 'demo-synthetic')), false);

  // export.py checks the same by itself
  const vocab = join(work, 'vocab_bytes_only.txt.gz');
  spawnSync(PYTHON, [
    '-c',
    'import sys; sys.path.insert(0, sys.argv[1]); from bundle import write_bytes_only_vocab; write_bytes_only_vocab(sys.argv[2])',
    join(ROOT, 'models', 'export'),
    vocab,
  ]);
  const e = spawnSync(
    PYTHON,
    [join(ROOT, 'models', 'export', 'export.py')]
      .concat([
        '--clip',
        join(other, 'demo-synthetic-clip.pt'),
        '--adaclip',
        join(other, 'demo-synthetic-adaclip.pt'),
      ])
      .concat([
        '--training',
        join(other, 'demo-synthetic.json'),
        '--arch',
        join(ROOT, 'models/export/archs/demo.json'),
      ])
      .concat(['--image-size', '224', '--vocab', vocab, '--out', join(work, 'export-tampered')]),
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(e.status, 2, e.stderr.slice(-2000));
  assert.match(e.stderr, /--adaclip .*: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} its training record/);

  const none = makeBundles({ ADACLIP_DEMO_WEIGHTS: join(work, 'no-weights-here') });
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /demo-synthetic: no trained weights in .*no-weights-here .*skipped/);
  assert.equal(none.stdout.trim().split('\n').length, 1, 'one line');
});
