// The temporal filter and severity on hand-made score sequences; expected transitions are worked out
// by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemporalFilter } from '../../src/postprocess/temporal.js';
import { severityOf, validateSeverityLevels } from '../../src/postprocess/severity.js';

function run(
  f: TemporalFilter,
  scores: number[],
  image: number,
  clear: number,
  dtMs = 100,
): (string | undefined)[] {
  return scores.map((s, i) => f.step(s, i * dtMs, image, clear).transition);
}

test('k=1 n=1: every crossing raises and the first low frame clears', () => {
  const f = new TemporalFilter({ k: 1, n: 1, cooldownMs: 0 });
  assert.deepEqual(run(f, [0.1, 0.6, 0.7, 0.2, 0.9], 0.5, 0.5), [
    undefined,
    'raise',
    undefined,
    'clear',
    'raise',
  ]);
});

test('k=2 n=3: two anomalous frames among the last three raise', () => {
  const f = new TemporalFilter({ k: 2, n: 3, cooldownMs: 0 });
  // windows: [.6] 1 hit; [.6 .1] 1; [.6 .1 .7] 2 -> raise; then clear when < 2 of the last 3 reach clear
  // [.1 .7 .1] 1 -> clear
  assert.deepEqual(run(f, [0.6, 0.1, 0.7, 0.1], 0.5, 0.5), [undefined, undefined, 'raise', 'clear']);
});

test('an isolated spike does not raise with k=2', () => {
  const f = new TemporalFilter({ k: 2, n: 3, cooldownMs: 0 });
  assert.deepEqual(run(f, [0.9, 0.1, 0.1, 0.9, 0.1, 0.1], 0.5, 0.5), Array(6).fill(undefined));
});

test('hysteresis: scores between clear and image keep the alarm active', () => {
  const f = new TemporalFilter({ k: 1, n: 1, cooldownMs: 0 });
  // image 0.5, clear 0.3: 0.4 and 0.35 stay active, 0.29 clears, 0.45 does not raise again
  assert.deepEqual(run(f, [0.6, 0.4, 0.35, 0.29, 0.45], 0.5, 0.3), [
    'raise',
    undefined,
    undefined,
    'clear',
    undefined,
  ]);
  assert.equal(f.isActive, false);
});

test('cooldown holds back a raise until it has passed since the previous raise', () => {
  const f = new TemporalFilter({ k: 1, n: 1, cooldownMs: 250 });
  // frames every 100 ms: raise at 0, clear at 100, anomalous at 200 (< 250 after 0: held), 300 (raises)
  const steps = [0.9, 0.1, 0.9, 0.9].map((s, i) => f.step(s, i * 100, 0.5, 0.5));
  assert.deepEqual(
    steps.map((s) => s.transition),
    ['raise', 'clear', undefined, 'raise'],
  );
  assert.deepEqual(
    steps.map((s) => s.suppressedByCooldown),
    [false, false, true, false],
  );
});

test('invalid k/n/cooldown are rejected', () => {
  assert.throws(
    () => new TemporalFilter({ k: 3, n: 2, cooldownMs: 0 }),
    /k must be an integer in \[1, n=2\]/,
  );
  assert.throws(() => new TemporalFilter({ k: 1, n: 0, cooldownMs: 0 }), /n must be/);
  assert.throws(() => new TemporalFilter({ k: 1, n: 1, cooldownMs: -1 }), /cooldownMs/);
});

test('severity levels by score', () => {
  const levels = { warning: 0.6, critical: 0.85 };
  assert.deepEqual(
    [0.1, 0.6, 0.7, 0.85, 1].map((s) => severityOf(s, levels)),
    ['info', 'warning', 'warning', 'critical', 'critical'],
  );
  assert.throws(() => validateSeverityLevels({ warning: 0.9, critical: 0.5 }), /must not exceed critical/);
});
