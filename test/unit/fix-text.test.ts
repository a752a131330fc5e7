// fixText against real ftfy: golden outputs made by test/fixtures/gen_ftfy_fixture.py with ftfy 6.3.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { fixText } from '../../src/model/fix-text.js';

interface Entry {
  text: string;
  fixed: string;
  fixedWithoutEncodingRepair: string;
  mojibake: boolean;
}

const { ftfy, entries } = JSON.parse(
  readFileSync(join(ROOT, 'test', 'fixtures', 'ftfy-fix-text.json'), 'utf8'),
) as {
  ftfy: string;
  entries: Entry[];
};

function mismatches(list: Entry[], want: (e: Entry) => string): string[] {
  return list
    .filter((e) => fixText(e.text) !== want(e))
    .map(
      (e) =>
        `${JSON.stringify(e.text)}: ftfy ${JSON.stringify(want(e))}, ours ${JSON.stringify(fixText(e.text))}`,
    );
}

test('fixText equals ftfy.fix_text(fix_encoding=False) on the whole corpus', () => {
  assert.ok(entries.length > 600);
  assert.deepEqual(
    mismatches(entries, (e) => e.fixedWithoutEncodingRepair),
    [],
  );
});

test('fixText equals default ftfy.fix_text wherever ftfy finds no mojibake', (t) => {
  const plain = entries.filter((e) => !e.mojibake);
  assert.ok(plain.length > 500);
  assert.deepEqual(
    mismatches(plain, (e) => e.fixed),
    [],
  );
  t.diagnostic(
    `ftfy ${ftfy}: ${plain.length} plain strings equal; ${entries.length - plain.length} mojibake strings left unrepaired`,
  );
});
