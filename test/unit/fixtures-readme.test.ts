// test/fixtures/README.md lists every fixture file with its true sha256 (recomputed here), and the
// copies of the official fixture are intact: their sha256 equal the ones the official fixture.json
// recorded when it was made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE, FIXTURES_DIR, VOCAB } from '../helpers/fixtures.js';
import { fixtureRows, renderFixturesReadme, sha256File } from '../helpers/fixtures-manifest.js';

test('README.md lists every file of test/fixtures with its size, sha256 and origin', () => {
  const want = renderFixturesReadme(fixtureRows(FIXTURES_DIR));
  const got = readFileSync(join(FIXTURES_DIR, 'README.md'), 'utf8');
  assert.equal(
    got,
    want,
    'test/fixtures/README.md is stale: run node dist/test/tools/write-fixtures-readme.js',
  );
});

test('the copied official fixture and vocabulary have the sha256 that fixture.json recorded', () => {
  const fx = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8'));
  const recorded: [string, string][] = [
    [fx.weights.clip_state_dict.file, fx.weights.clip_state_dict.sha256],
    [fx.weights.adaclip_ckpt.file, fx.weights.adaclip_ckpt.sha256],
    [fx.tokenizer.file, fx.tokenizer.sha256],
    ...Object.values(fx.images as Record<string, { file: string; sha256: string }>).map(
      (i) => [i.file, i.sha256] as [string, string],
    ),
  ];
  assert.equal(recorded.length, 5);
  for (const [file, sha] of recorded) assert.equal(sha256File(join(FIXTURE, file)), sha, file);
  assert.equal(sha256File(VOCAB), fx.tokenizer.vocab_sha256, 'bpe_simple_vocab_16e6.txt.gz');
});
