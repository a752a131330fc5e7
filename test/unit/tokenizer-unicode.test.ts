// Non-ASCII tokenizer ids against the OFFICIAL tokenizer run with real ftfy 6.3.1 (golden ids made by
// test/fixtures/gen_tokenizer_unicode.py): covers what the official fixture (test/fixtures), made without ftfy, cannot.
// Strings where ftfy repairs mojibake (left out on purpose, see src/model/fix-text.ts) are counted only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, VOCAB } from '../helpers/fixtures.js';
import { ClipTokenizer } from '../../src/model/tokenizer.js';

interface Entry {
  text: string;
  ids: number[];
  mojibake: boolean;
}

test('ids equal the official tokenizer with real ftfy on non-ASCII strings', (t) => {
  const { ftfy, entries } = JSON.parse(
    readFileSync(join(ROOT, 'test', 'fixtures', 'tokenizer-unicode-ids.json'), 'utf8'),
  ) as { ftfy: string; entries: Entry[] };
  const tok = ClipTokenizer.fromFile(VOCAB);
  const plain = entries.filter((e) => !e.mojibake);
  assert.ok(plain.length > 300);
  const bad = plain
    .filter((e) => JSON.stringify(tok.encodeWithEnds(e.text)) !== JSON.stringify(e.ids))
    .map(
      (e) =>
        `${JSON.stringify(e.text)}: want ${JSON.stringify(e.ids)} got ${JSON.stringify(tok.encodeWithEnds(e.text))}`,
    );
  assert.deepEqual(bad, []);
  t.diagnostic(
    `ftfy ${ftfy}: ${plain.length}/${plain.length} equal; ${entries.length - plain.length} mojibake strings skipped`,
  );
});
