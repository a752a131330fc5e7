// Fuzzing config files (parseConfigText, what `run`, `doctor` and every command read): random text,
// random YAML documents, and the shipped configs with one value replaced by anything at a random
// path. Every outcome is a config or a ConfigError naming the key and the problem: never another
// exception, never an empty message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { ROOT } from '../helpers/fixtures.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SHIPPED = ['demo.yaml', 'multi-camera.yaml', 'jetson.yaml'].map(
  (f) => parse(readFileSync(join(ROOT, 'config', f), 'utf8')) as unknown,
);

/** Every path (list of keys and indexes) into a parsed document. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function replaced(doc: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]] = value;
  return copy;
}

const mutated = fc
  .tuple(fc.constantFrom(...SHIPPED), fc.nat(), fc.oneof(fc.jsonValue(), fc.constant(undefined)))
  .map(([doc, n, value]) => {
    const all = paths(doc);
    return stringify(replaced(doc, all[n % all.length], value) ?? null);
  });
const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => stringify(v)),
  mutated,
  mutated.map((t) => t.slice(0, Math.floor(t.length / 2))), // truncated file
);

test('config files: random and mutated documents give a config or a clear ConfigError', () => {
  let ok = 0;
  fc.assert(
    fc.property(text, (t) => {
      try {
        parseConfigText(t, 'fuzz.yaml', {});
        ok++;
      } catch (err) {
        assert.ok(err instanceof ConfigError, `not a ConfigError: ${(err as Error)?.stack ?? String(err)}`);
        assert.match(err.message, /fuzz\.yaml/, 'names the file');
        assert.ok(
          err.problems.length > 0 && err.problems.every((p) => p.trim().length > 0),
          'names problems',
        );
      }
    }),
    { numRuns: RUNS },
  );
  assert.ok(ok > 0, 'valid configs are among the cases (the shipped ones, mutated harmlessly)');
});
