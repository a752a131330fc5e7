// What a reloaded config changes: cameras added, removed, changed (any line of theirs), a model
// change, and the keys only a restart applies; key order in the file does not matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.js';
import { planChangesSomething, planReload, sameValue } from '../../src/service/config-reload.js';

const base = (cameras: string, extra = '') =>
  parseConfigText(
    `model: { bundle: models/a }
cameras:
${cameras}
mqtt: { url: "mqtt://127.0.0.1:1883" }
${extra}`,
    'test.yaml',
    {},
  );
const cam = (id: string, more = '') =>
  `  - { id: ${id}, className: screw, source: { kind: synthetic, seed: 1 }${more} }`;

test('cameras added, removed and changed; unchanged ones untouched', () => {
  const before = base([cam('a'), cam('b'), cam('c')].join('\n'));
  const after = base([cam('a'), cam('c', ', thresholds: { image: 0.7 }'), cam('d')].join('\n'));
  const plan = planReload(before, after);
  assert.deepEqual(
    plan.added.map((c) => c.id),
    ['d'],
  );
  assert.deepEqual(plan.removed, ['b']);
  assert.deepEqual(
    plan.changed.map((c) => c.id),
    ['c'],
  );
  assert.equal(plan.changed[0].thresholds.image, 0.7);
  assert.equal(plan.model, false);
  assert.deepEqual(plan.restartNeeded, []);
  assert.equal(planChangesSomething(plan), true);
});

test('the same file again changes nothing, whatever the key order', () => {
  const a = base(cam('a', ', roi: { x: 1, y: 2, width: 30, height: 40 }'));
  const b = base(
    `  - { source: { seed: 1, kind: synthetic }, roi: { height: 40, width: 30, y: 2, x: 1 }, className: screw, id: a }`,
  );
  const plan = planReload(a, b);
  assert.equal(planChangesSomething(plan), false);
  assert.deepEqual(plan.restartNeeded, []);
});

test('a new model.bundle is a model change; mqtt and dashboard changes need a restart', () => {
  const before = base(cam('a'));
  const after = parseConfigText(
    `model: { bundle: models/b }
cameras:
${cam('a')}
mqtt: { url: "mqtt://10.0.0.2:1883" }
dashboard: { port: 9000 }
`,
    'test.yaml',
    {},
  );
  const plan = planReload(before, after);
  assert.equal(plan.model, true);
  assert.deepEqual(plan.added.length + plan.removed.length + plan.changed.length, 0);
  assert.deepEqual(plan.restartNeeded.sort(), ['dashboard.port', 'mqtt.url']);
});

test('sameValue: deep, order of keys ignored, order of arrays kept, undefined keys ignored', () => {
  assert.equal(sameValue({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), true);
  assert.equal(sameValue({ a: [1, 2] }, { a: [2, 1] }), false);
  assert.equal(sameValue({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(sameValue({ a: { b: 1 } }, { a: { b: 2 } }), false);
  assert.equal(sameValue(null, {}), false);
});
