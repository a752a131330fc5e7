// TensorRT engine cache: key, shape profile, trtexec command line, reuse and rebuild. trtexec does not
// exist here, so a TEST DOUBLE (fake-trtexec, a shell script) stands in for it: it records each
// call and writes the --saveEngine file the way trtexec does; the GPU facts are a test double too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestSchema, type Manifest } from '../../src/model/manifest.js';
import {
  EngineBuildError,
  buildEngine,
  engineKey,
  ensureEngine,
  shapeProfile,
  type DeviceFacts,
  type EngineKeyParts,
} from '../../src/engines/engine-cache.js';
import { findTrtexec, parseTrtexecVersion, trtexecArgs } from '../../src/engines/trtexec.js';

const ONNX_BYTES = Buffer.from('not really onnx, but bytes to hash');

function manifest(): Manifest {
  const sha = createHash('sha256').update(ONNX_BYTES).digest('hex');
  return manifestSchema.parse({
    format: 'adaclip-edge-bundle',
    formatVersion: 1,
    architecture: {
      name: 'tiny',
      embedDim: 48,
      vision: { width: 64, layers: 4, heads: 1, patchSize: 14, nativeImageSize: 84 },
      text: { width: 48, layers: 4, heads: 2, contextLength: 77, vocabSize: 49408 },
      activation: 'quick_gelu',
    },
    imageSize: 126,
    grid: 9,
    normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    adaclip: {
      promptDepth: 2,
      promptLength: 3,
      promptType: 'SD',
      promptBranch: 'VL',
      outputLayers: [1, 2, 3, 4],
    },
    hsf: { kClusters: 4, topK: 20, alpha: 0.2 },
    prompts: {
      normalStates: ['{}', 'good {}'],
      abnormalStates: ['damaged {}'],
      templates: ['a photo of {}.', 'a {}.', 'the {}.'],
    },
    tokenizer: { vocab: 'vocab.txt.gz', sot: 49406, eot: 49407, bytesOnly: true },
    onnx: {
      file: 'model.onnx',
      opset: 17,
      inputs: [
        { name: 'image', dtype: 'float32', shape: ['batch', 3, 126, 126] },
        { name: 'tokens', dtype: 'int64', shape: ['batch', 'sentences', 'context'] },
      ],
      outputs: [],
    },
    files: { 'model.onnx': { sha256: sha, bytes: ONNX_BYTES.length } },
    provenance: { kind: 'untrained-test', exporter: 'test', createdAt: '2026-01-01T00:00:00Z' },
  });
}

/** TEST DOUBLE for this device's facts (no GPU/TensorRT here). */
const FAKE_FACTS: DeviceFacts = { tensorrtVersion: '10.3.0', gpuName: 'Orin (test double)' };

interface Sandbox {
  dir: string;
  bundle: { dir: string; manifest: Manifest; onnxPath: string };
  trtexec: string;
  callsFile: string;
  calls(): string[][];
}

/** A bundle folder and a fake-trtexec (TEST DOUBLE) that logs its argv and writes the engine. */
function sandbox(opts: { failWith?: string } = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'engine-cache-'));
  const onnxPath = join(dir, 'model.onnx');
  writeFileSync(onnxPath, ONNX_BYTES);
  const callsFile = join(dir, 'trtexec-calls.jsonl');
  const trtexec = join(dir, 'fake-trtexec');
  const fail = opts.failWith
    ? `echo "[E] [TRT] ${opts.failWith}" >&2; exit 1`
    : `for a in "$@"; do case "$a" in --saveEngine=*) printf 'PLAN for %s' "$*" > "\${a#--saveEngine=}";; esac; done`;
  writeFileSync(
    trtexec,
    `#!/bin/sh
# fake-trtexec: TEST DOUBLE for NVIDIA's trtexec
node -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")' "${callsFile}" "$@"
echo "&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec $*"
echo "[I] Engine built in 0.01 sec."
${fail}
`,
  );
  chmodSync(trtexec, 0o755);
  return {
    dir,
    bundle: { dir, manifest: manifest(), onnxPath },
    trtexec,
    callsFile,
    calls: () =>
      existsSync(callsFile)
        ? readFileSync(callsFile, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as string[])
        : [],
  };
}

const baseParts = (): EngineKeyParts => ({
  onnxSha256: 'a'.repeat(64),
  tensorrtVersion: '10.3.0',
  gpuName: 'Orin',
  precision: 'fp16',
  profile: shapeProfile(manifest(), { min: 1, opt: 4, max: 4 }),
});

test('engineKey is stable and changes with every part', () => {
  const k = engineKey(baseParts());
  assert.match(k, /^[0-9a-f]{32}$/);
  assert.equal(engineKey(baseParts()), k);
  const variants: Partial<EngineKeyParts>[] = [
    { onnxSha256: 'b'.repeat(64) },
    { tensorrtVersion: '10.3.1' },
    { gpuName: 'NVIDIA H100' },
    { precision: 'fp32' },
    { profile: shapeProfile(manifest(), { min: 1, opt: 4, max: 8 }) },
    { profile: shapeProfile(manifest(), { min: 2, opt: 4, max: 4 }) },
  ];
  const keys = variants.map((v) => engineKey({ ...baseParts(), ...v }));
  assert.equal(new Set([k, ...keys]).size, variants.length + 1);
});

test('engineKey does not depend on the order of the profile entries', () => {
  const p = baseParts();
  const reversed = Object.fromEntries(Object.entries(p.profile.min).reverse());
  assert.equal(engineKey({ ...p, profile: { ...p.profile, min: reversed } }), engineKey(p));
});

test('shapeProfile: batch range on image and tokens, Q from the prompt ensemble, T from prompts to context', () => {
  const m = manifest();
  const prof = shapeProfile(m, { min: 1, opt: 2, max: 8 });
  const Q = (2 + 1) * 3; // (normal + abnormal states) x templates of the manifest above
  assert.deepEqual(prof.min, { image: [1, 3, 126, 126], tokens: [1, Q, 3 + 2] });
  assert.deepEqual(prof.opt, { image: [2, 3, 126, 126], tokens: [2, Q, 77] });
  assert.deepEqual(prof.max, { image: [8, 3, 126, 126], tokens: [8, Q, 77] });
});

test('trtexecArgs: onnx, engine, shapes, timing cache, fp16 only for fp16, workspace in MiB', () => {
  const profile = shapeProfile(manifest(), { min: 1, opt: 4, max: 4 });
  const fp16 = trtexecArgs({
    onnxPath: '/b/model.onnx',
    enginePath: '/b/e.plan',
    timingCachePath: '/b/t.cache',
    precision: 'fp16',
    profile,
    workspaceMiB: 2048,
  });
  assert.ok(fp16.includes('--onnx=/b/model.onnx'));
  assert.ok(fp16.includes('--saveEngine=/b/e.plan'));
  assert.ok(fp16.includes('--minShapes=image:1x3x126x126,tokens:1x9x5'));
  assert.ok(fp16.includes('--optShapes=image:4x3x126x126,tokens:4x9x77'));
  assert.ok(fp16.includes('--maxShapes=image:4x3x126x126,tokens:4x9x77'));
  assert.ok(fp16.includes('--timingCacheFile=/b/t.cache'));
  assert.ok(fp16.includes('--fp16'));
  assert.ok(fp16.includes('--memPoolSize=workspace:2048M'));
  const fp32 = trtexecArgs({
    onnxPath: 'm',
    enginePath: 'e',
    timingCachePath: 't',
    precision: 'fp32',
    profile,
  });
  assert.ok(!fp32.includes('--fp16'));
  assert.ok(!fp32.some((a) => a.startsWith('--memPoolSize')));
});

test('parseTrtexecVersion reads the banner of TensorRT 10 and 8', () => {
  assert.equal(parseTrtexecVersion('&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec'), '10.3.0');
  assert.equal(parseTrtexecVersion('[TensorRT v8601]'), '8.6.1');
  assert.equal(parseTrtexecVersion('no banner'), undefined);
});

test('findTrtexec: $TRTEXEC, then PATH; undefined when absent', () => {
  const s = sandbox();
  try {
    assert.equal(findTrtexec({ TRTEXEC: s.trtexec }), s.trtexec);
    assert.equal(findTrtexec({ TRTEXEC: join(s.dir, 'missing') }), undefined);
    const onPath = join(s.dir, 'trtexec');
    writeFileSync(onPath, '#!/bin/sh\n');
    assert.equal(findTrtexec({ PATH: `/nonexistent:${s.dir}` }), onPath);
    const expectFallback = existsSync('/usr/src/tensorrt/bin/trtexec')
      ? '/usr/src/tensorrt/bin/trtexec'
      : undefined;
    assert.equal(findTrtexec({ PATH: '/nonexistent' }), expectFallback);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test(
  'without trtexec the build fails with a clear error',
  { skip: findTrtexec() !== undefined ? 'this machine has a trtexec' : false },
  async () => {
    const s = sandbox();
    try {
      await assert.rejects(
        ensureEngine({ bundle: s.bundle, facts: FAKE_FACTS }),
        (e: Error) => e instanceof EngineBuildError && /trtexec not found/.test(e.message),
      );
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  },
);

test('ensureEngine builds once, then reuses the cached engine', async () => {
  const s = sandbox();
  try {
    const opts = { bundle: s.bundle, trtexec: s.trtexec, facts: FAKE_FACTS, maxBatch: 4 };
    const first = await ensureEngine(opts);
    assert.equal(first.reused, false);
    assert.equal(s.calls().length, 1);
    assert.equal(first.enginePath, join(s.dir, 'engines', `${first.key}.plan`));
    assert.ok(readFileSync(first.enginePath, 'utf8').startsWith('PLAN for'));
    const meta = JSON.parse(readFileSync(first.metaPath, 'utf8'));
    assert.equal(meta.key, first.key);
    assert.equal(meta.onnxSha256, createHash('sha256').update(ONNX_BYTES).digest('hex'));
    assert.equal(meta.gpuName, FAKE_FACTS.gpuName);
    // trtexec wrote to a temporary name that was then renamed: nothing partial is left
    assert.deepEqual(
      readdirSync(join(s.dir, 'engines')).filter((f) => f.endsWith('.partial')),
      [],
    );
    const args = s.calls()[0];
    assert.ok(args.includes('--fp16'));
    assert.ok(args.includes(`--timingCacheFile=${join(s.dir, 'engines', 'timing.cache')}`));

    const second = await ensureEngine(opts);
    assert.equal(second.reused, true);
    assert.equal(second.key, first.key);
    assert.equal(s.calls().length, 1, 'no second trtexec run');
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('ensureEngine rebuilds when the key changes: ONNX, precision, batch range, TensorRT version, GPU', async () => {
  const s = sandbox();
  try {
    const base = { bundle: s.bundle, trtexec: s.trtexec, facts: FAKE_FACTS, maxBatch: 4 };
    const keys = new Set<string>();
    keys.add((await ensureEngine(base)).key);
    keys.add((await ensureEngine({ ...base, precision: 'fp32' })).key);
    keys.add((await ensureEngine({ ...base, maxBatch: 8 })).key);
    keys.add((await ensureEngine({ ...base, facts: { ...FAKE_FACTS, tensorrtVersion: '10.4.0' } })).key);
    keys.add((await ensureEngine({ ...base, facts: { ...FAKE_FACTS, gpuName: 'other GPU' } })).key);
    // a changed model.onnx without a manifest hash is hashed from the file itself
    writeFileSync(s.bundle.onnxPath, Buffer.concat([ONNX_BYTES, Buffer.from('!')]));
    const m = { ...s.bundle.manifest, files: {} };
    keys.add((await ensureEngine({ ...base, bundle: { ...s.bundle, manifest: m } })).key);
    assert.equal(keys.size, 6);
    assert.equal(s.calls().length, 6);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('a cached engine whose metadata does not match is rebuilt; buildEngine always builds', async () => {
  const s = sandbox();
  try {
    const opts = { bundle: s.bundle, trtexec: s.trtexec, facts: FAKE_FACTS };
    const first = await ensureEngine(opts);
    writeFileSync(first.metaPath, '{"key":"something else"}');
    assert.equal((await ensureEngine(opts)).reused, false);
    rmSync(first.metaPath);
    assert.equal((await ensureEngine(opts)).reused, false);
    await buildEngine(opts);
    assert.equal(s.calls().length, 4);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('a failing trtexec gives its error lines and leaves no engine behind', async () => {
  const s = sandbox({ failWith: 'ModelImporter: No importer registered for op: FancyOp' });
  try {
    await assert.rejects(
      ensureEngine({ bundle: s.bundle, trtexec: s.trtexec, facts: FAKE_FACTS }),
      (e: Error) => e instanceof EngineBuildError && /exit 1/.test(e.message) && /FancyOp/.test(e.message),
    );
    const left = existsSync(join(s.dir, 'engines')) ? readdirSync(join(s.dir, 'engines')) : [];
    assert.deepEqual(
      left.filter((f) => f.endsWith('.plan') || f.endsWith('.partial') || f.endsWith('.json')),
      [],
    );
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('bad batch ranges and a missing model.onnx are refused with a clear error', async () => {
  const s = sandbox();
  try {
    const base = { bundle: s.bundle, trtexec: s.trtexec, facts: FAKE_FACTS };
    await assert.rejects(ensureEngine({ ...base, minBatch: 4, maxBatch: 2 }), /min <= opt <= max/);
    await assert.rejects(ensureEngine({ ...base, maxBatch: 0 }), /maxBatch must be a positive integer/);
    await assert.rejects(
      ensureEngine({ ...base, bundle: { ...s.bundle, onnxPath: join(s.dir, 'nope.onnx') } }),
      /nope\.onnx does not exist/,
    );
    assert.equal(s.calls().length, 0);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('progress: every trtexec line reaches onProgress', async () => {
  const s = sandbox();
  try {
    const lines: string[] = [];
    await ensureEngine({
      bundle: s.bundle,
      trtexec: s.trtexec,
      facts: FAKE_FACTS,
      onProgress: (p) => p.line && lines.push(p.line),
    });
    assert.ok(lines.some((l) => l.includes('[TensorRT v100300]')));
    assert.ok(lines.some((l) => l.includes('Engine built')));
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});
