// Locates ../shared (fixtures and the real BPE vocabulary). A user's clone has no ../shared beside
// it: tests that need it skip with a clear message instead of failing.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// compiled tests live in dist/test/helpers, the sources in test/helpers: walk up to the repo root
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
}
export const ROOT = findRoot();
export const SHARED = process.env.ADACLIP_SHARED_DIR ?? resolve(ROOT, '..', 'shared');
export const FIXTURE = join(SHARED, 'fixtures', 'official-adaclip-tiny');
export const VOCAB = join(SHARED, 'data', 'bpe_simple_vocab_16e6.txt.gz');
export const hasShared = existsSync(FIXTURE) && existsSync(VOCAB);
/** Pass as the `skip` option of a test: false when ../shared is present, else the reason. */
export const skipWithoutShared: string | false = hasShared
  ? false
  : `../shared not found at ${SHARED} (set ADACLIP_SHARED_DIR): fixture tests skipped`;
