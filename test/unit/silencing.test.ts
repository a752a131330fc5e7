// Settings that would silence a camera are refused without the camera's allowDisable: in the config
// (naming the key) and at run time in the Decider, which every door's change passes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { cameraSchema } from '../../src/config/schema.js';
import { Decider, SettingError } from '../../src/postprocess/decide.js';

const configWith = (camera: string) => `
model: { bundle: x }
cameras:
  - id: cam1
    className: screw
    source: { kind: synthetic }
${camera}
`;

function problems(camera: string): string[] {
  try {
    parseConfigText(configWith(camera), 'c.yaml', {});
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
}

test('a config that would silence a camera is refused, naming each key and allowDisable', () => {
  const p = problems(`    thresholds: { image: 1, pixel: 1.0, minRegionAreaPct: 100 }
    decision: { cooldownMs: 7200000 }`);
  assert.equal(p.length, 4, p.join('\n'));
  for (const key of [
    'thresholds.image',
    'thresholds.pixel',
    'thresholds.minRegionAreaPct',
    'decision.cooldownMs',
  ])
    assert.ok(
      p.some((x) => x.startsWith(`cameras[0].${key}:`) && /allowDisable: true/.test(x)),
      `${key}: ${p.join('\n')}`,
    );
});

test('allowDisable: true lets the config silence the camera; k greater than n is refused anyway', () => {
  assert.deepEqual(
    problems(`    allowDisable: true
    thresholds: { image: 1, pixel: 1 }
    decision: { cooldownMs: 7200000 }`),
    [],
  );
  const p = problems(`    allowDisable: true
    decision: { k: 3, n: 2 }`);
  assert.equal(p.length, 1);
  assert.match(p[0], /^cameras\[0\]\.decision\.k: .*at most n \(2\)/);
  assert.deepEqual(
    problems(`    thresholds: { image: 0.999, pixel: 0.999, minRegionAreaPct: 99.9 }`),
    [],
    'just below the limits',
  );
});

test('at run time the Decider refuses thresholds that would silence the camera, and changes nothing', () => {
  const cam = cameraSchema.parse({ id: 'cam1', className: 'screw', source: { kind: 'synthetic' } });
  const d = new Decider(cam);
  const before = d.getThresholds();
  for (const patch of [{ image: 1 }, { pixel: 1 }, { minRegionAreaPct: 100 }, { image: 1, clear: 0.5 }]) {
    assert.throws(
      () => d.setThresholds(patch),
      (err: unknown) =>
        err instanceof SettingError &&
        /would silence/.test(err.message) &&
        /allowDisable: true/.test(err.message),
      JSON.stringify(patch),
    );
    assert.deepEqual(d.getThresholds(), before);
  }
  const open = new Decider({ ...cam, allowDisable: true });
  assert.equal(open.setThresholds({ image: 1, pixel: 1 }).image, 1);
  assert.throws(
    () => new Decider({ ...cam, decision: { ...cam.decision, cooldownMs: 3_600_001 } }),
    /cooldownMs/,
  );
});
