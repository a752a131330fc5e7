// Fuzzing model bundle manifests (loadBundle, what `run`, `infer` and `eval` load first): the demo
// bundle's manifest.json with one value replaced by anything at a random path, truncated, or
// replaced by random JSON, beside the bundle's real files. Every outcome is a bundle or a
// BundleError naming the bundle and the problem: never another exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BundleError, loadBundle } from '../../src/model/bundle.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireDemoBundle } from '../helpers/require-tools.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');

function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

test('bundle manifests: mutated, truncated and random manifests load or fail with a BundleError', async () => {
  requireDemoBundle(BUNDLE);
  const text = readFileSync(join(BUNDLE, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(text) as unknown;
  const all = paths(manifest);
  const dir = mkdtempSync(join(tmpdir(), 'fz-bundle-'));
  for (const f of ['model.onnx', 'vocab_bytes_only.txt.gz']) symlinkSync(join(BUNDLE, f), join(dir, f));
  const mutated = fc
    .tuple(
      fc.nat(),
      fc.oneof(fc.jsonValue(), fc.constantFrom('../../etc/passwd', '/etc/passwd', 'model.onnx', -1, 1e300)),
    )
    .map(([n, value]) => {
      const path = all[n % all.length];
      if (path.length === 0) return JSON.stringify(value);
      const copy = structuredClone(manifest) as Record<string | number, unknown>;
      let o = copy;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      o[path[path.length - 1]] = value;
      return JSON.stringify(copy);
    });
  const manifestText = fc.oneof(
    { weight: 4, arbitrary: mutated },
    fc.nat({ max: text.length }).map((n) => text.slice(0, n)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  );
  let loaded = 0;
  try {
    await fc.assert(
      fc.asyncProperty(manifestText, async (t) => {
        writeFileSync(join(dir, 'manifest.json'), t);
        try {
          await loadBundle(dir, { verifyHashes: false });
          loaded++;
        } catch (err) {
          assert.ok(err instanceof BundleError, `not a BundleError: ${(err as Error)?.stack ?? String(err)}`);
          assert.ok(err.message.includes(dir), 'names the bundle');
          assert.ok(err.message.length > dir.length + 5, 'says what is wrong');
        }
      }),
      { numRuns: RUNS },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(loaded > 0, 'harmless mutations still load');
});
