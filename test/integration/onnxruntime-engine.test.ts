// The onnxruntime engine on a real exported bundle: provider fallback, input errors, batch splitting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TINY_ARCH,
  exportBundle,
  maxAbsDiff,
  seededNormal,
  writeArch,
  writeBytesOnlyVocab,
} from '../helpers/export-bundle.js';
import { loadBundle, type Bundle } from '../../src/model/bundle.js';
import { PromptTokenCache, cutContext } from '../../src/model/prompts.js';
import { EngineInputError, OnnxRuntimeEngine } from '../../src/engines/onnxruntime.js';

let work = '';
let bundle: Bundle;
before(async () => {
  work = mkdtempSync(join(tmpdir(), 'adaclip-ort-'));
  const dir = exportBundle(join(work, 'b'), [
    '--random-init',
    '5',
    '--arch',
    writeArch(work, TINY_ARCH),
    '--image-size',
    '84',
    '--vocab',
    writeBytesOnlyVocab(join(work, 'vocab_bytes_only.txt.gz')),
  ]);
  bundle = await loadBundle(dir);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function capture() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  return {
    lines,
    warn: (obj: object, msg?: string) => lines.push({ level: 'warn', obj, msg }),
    info: (obj: object, msg?: string) => lines.push({ level: 'info', obj, msg }),
  };
}

test('a missing CUDA provider falls back to the CPU with one warning', async () => {
  const logger = capture();
  const engine = await OnnxRuntimeEngine.create(bundle, { providers: ['cuda', 'cpu'], logger });
  try {
    assert.equal(engine.info.device, 'cpu');
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].msg ?? '', /provider cuda is not available here: falling back to the CPU/);
  } finally {
    await engine.close();
  }
});

test('wrong input sizes are refused with the expected shape', async () => {
  const engine = await OnnxRuntimeEngine.create(bundle, { threads: 1 });
  try {
    const tokens = new PromptTokenCache(bundle.tokenizer, bundle.manifest.prompts).batch(['screw']);
    await assert.rejects(
      engine.run({ images: new Float32Array(10), batch: 1, ...tokens }),
      (e: Error) => e instanceof EngineInputError && /\[1,3,84,84\] needs 21168/.test(e.message),
    );
    await assert.rejects(
      engine.run({ images: new Float32Array(3 * 84 * 84), batch: 1, ...tokens, context: tokens.context + 1 }),
      /tokens hold/,
    );
  } finally {
    await engine.close();
  }
});

test('a batch larger than maxBatch is split and equals one run per image', async () => {
  const engine = await OnnxRuntimeEngine.create(bundle, { threads: 1, maxBatch: 2 });
  const cache = new PromptTokenCache(bundle.tokenizer, bundle.manifest.prompts);
  try {
    const n = 3 * 84 * 84;
    const classes = ['screw', 'pill', 'o-ring'];
    const images = new Float32Array(3 * n);
    classes.forEach((_, i) => images.set(seededNormal(n, i + 1), i * n));
    const all = await engine.run({ images, batch: 3, ...cache.batch(classes) });
    assert.equal(all.batch, 3);
    assert.equal(all.hsfIndices.length, 3 * all.topK);
    for (let b = 0; b < 3; b++) {
      const one = await engine.run({
        images: images.slice(b * n, (b + 1) * n),
        batch: 1,
        ...cache.batch([classes[b]]),
      });
      assert.ok(maxAbsDiff(one.anomalyMap, all.anomalyMap.subarray(b * 84 * 84, (b + 1) * 84 * 84)) < 1e-5);
      assert.deepEqual([...one.hsfIndices], [...all.hsfIndices.subarray(b * all.topK, (b + 1) * all.topK)]);
    }
  } finally {
    await engine.close();
  }
});

test('cutting the context after the last EOT changes nothing against the full 77 tokens', async () => {
  const engine = await OnnxRuntimeEngine.create(bundle, { threads: 1 });
  try {
    const tokens = new PromptTokenCache(bundle.tokenizer, bundle.manifest.prompts).batch([
      'transistor-board',
    ]);
    assert.ok(tokens.context < 77);
    const images = seededNormal(3 * 84 * 84, 9);
    const cut = await engine.run({ images, batch: 1, ...tokens });
    const full = await engine.run({
      images,
      batch: 1,
      sentences: tokens.sentences,
      context: 77,
      tokens: cutContext(tokens.tokens, tokens.sentences, tokens.context, 77),
    });
    assert.ok(maxAbsDiff(cut.anomalyMap, full.anomalyMap) < 1e-6);
    assert.ok(maxAbsDiff(cut.textFeatures, full.textFeatures) < 1e-6);
    assert.ok(maxAbsDiff(cut.globalFeature, full.globalFeature) < 1e-6);
    assert.deepEqual([...cut.hsfIndices], [...full.hsfIndices]);
  } finally {
    await engine.close();
  }
});
