// Where the tests find the repository and its data: the official AdaCLIP outputs and the real CLIP
// BPE vocabulary live in test/fixtures (their origin and sha256 in test/fixtures/README.md), so every
// parity test runs in every clone.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
export const FIXTURES_DIR = join(ROOT, 'test', 'fixtures');
/** Outputs of the official AdaCLIP code on a tiny random-weight CLIP (see its own README.md). */
export const FIXTURE = join(FIXTURES_DIR, 'official-adaclip-tiny');
/** OpenAI CLIP's BPE vocabulary (49,152 tokens), as the official tokenizer reads it. */
export const VOCAB = join(FIXTURES_DIR, 'bpe_simple_vocab_16e6.txt.gz');
