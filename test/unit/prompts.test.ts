// The prompt ensemble and its tokens against the official ones (test/fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, VOCAB } from '../helpers/fixtures.js';
import { readNpy } from '../../src/util/npy.js';
import { ClipTokenizer } from '../../src/model/tokenizer.js';
import { PromptTokenCache, promptSentences, promptTokens } from '../../src/model/prompts.js';

const INTER = join(FIXTURE, 'tiny_s126', 'intermediates', 'brushed_metal_dent_300x200__transistor-board');

test('48 sentences in the official order', () => {
  const want = JSON.parse(readFileSync(join(INTER, 'prompt_sentences_48.json'), 'utf8')) as string[];
  assert.deepEqual(promptSentences('transistor-board'), want);
});

test('tokens equal the official [48,77] up to the context cut', () => {
  const want = readNpy(join(INTER, 'prompt_tokens_48x77.npy'));
  assert.deepEqual(want.shape, [48, 77]);
  const tok = ClipTokenizer.fromFile(VOCAB);
  const got = promptTokens(tok, 'transistor-board');
  assert.equal(got.sentences, 48);
  assert.equal(got.normalCount, 28);
  // the fixture README: EOT indices range over 10..15
  assert.equal(got.context, 16);
  const official = want.data as BigInt64Array;
  for (let r = 0; r < 48; r++) {
    const row = official.subarray(r * 77, (r + 1) * 77);
    assert.deepEqual([...got.tokens.subarray(r * 16, (r + 1) * 16)], [...row.subarray(0, 16)], `row ${r}`);
    assert.ok(
      row.subarray(16).every((v) => v === 0n),
      `official row ${r} is zero after the cut`,
    );
  }
});

test('cache returns the same tokens per class; a batch pads to the longest context', () => {
  const cache = new PromptTokenCache(ClipTokenizer.fromFile(VOCAB));
  const a = cache.get('screw');
  assert.equal(cache.get('screw'), a);
  const b = cache.get('transistor-board');
  const batch = cache.batch(['screw', 'transistor-board']);
  assert.equal(batch.sentences, 48);
  assert.equal(batch.context, Math.max(a.context, b.context));
  const T = batch.context;
  for (let r = 0; r < 48; r++) {
    const row = [...batch.tokens.subarray(r * T, r * T + T)];
    const own = [...a.tokens.subarray(r * a.context, (r + 1) * a.context)];
    assert.deepEqual(row, [...own, ...new Array(T - a.context).fill(0n)]);
  }
  assert.throws(() => cache.get('  '), /class name is empty/);
});
