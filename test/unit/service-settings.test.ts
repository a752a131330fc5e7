// Run-time camera settings through their one entry point (CameraSettings.apply) with the real
// Deciders and the real prompt check (a bytes-only CLIP tokenizer, as the demo bundles carry), and
// the service's event bus that carries the change to its consumers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraSchema } from '../../src/config/schema.js';
import { PromptTokenCache } from '../../src/model/prompts.js';
import { ClipTokenizer } from '../../src/model/tokenizer.js';
import { buildVocab } from '../../src/model/vocab.js';
import { CameraSettings } from '../../src/service/camera-settings.js';
import { DecisionStage } from '../../src/service/decision-stage.js';
import { ServiceBus, type ServiceEvents } from '../../src/service/event-bus.js';
import { captureLogger } from '../helpers/capture-logger.js';

function setup() {
  const { logger, text } = captureLogger('info');
  const cameras = ['cam1', 'cam2'].map((id) =>
    cameraSchema.parse({
      id,
      className: 'screw',
      source: { kind: 'synthetic' },
      thresholds: { image: 0.5, pixel: 0.4, minRegionAreaPct: 0 },
    }),
  );
  const model = {
    bundleSha256: '0'.repeat(64),
    version: 'unversioned',
    kind: 'untrained-test' as const,
    untrained: true,
    architecture: 't',
    imageSize: 8,
    hsf: false,
    checkpoints: {},
  };
  const decisions = new DecisionStage(cameras, { site: 's', line: 'l', model }, logger);
  const prompts = new PromptTokenCache(new ClipTokenizer(buildVocab('#version: 0.2\n')));
  const bus = new ServiceBus(logger);
  const changes: ServiceEvents['settings'][] = [];
  bus.on('settings', (c) => void changes.push(c));
  const settings = new CameraSettings(cameras, {
    decisions,
    checkClassName: (name) => void prompts.get(name),
    changed: (c) => bus.emit('settings', c),
    logger,
  });
  return { settings, decisions, bus, changes, text };
}

test('a change through any door updates the Decider and the live camera, and says who asked', () => {
  const { settings, decisions, changes } = setup();
  const applied = settings.apply(
    { cameraId: 'cam1', className: 'metal nut', thresholds: { image: 0.7 } },
    { door: 'sparkplug', clientId: 'scada-1' },
  );
  assert.deepEqual(applied, {
    className: 'metal nut',
    thresholds: { image: 0.7, pixel: 0.4, clear: 0.7, minRegionAreaPct: 0 },
  });
  assert.equal(decisions.decider('cam1').getClassName(), 'metal nut');
  assert.equal(settings.camera('cam1').className, 'metal nut');
  assert.equal(settings.camera('cam1').thresholds.image, 0.7);
  assert.equal(settings.camera('cam2').className, 'screw', 'the other camera is untouched');
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0].origin, { door: 'sparkplug', clientId: 'scada-1' });
  assert.equal(changes[0].camera.thresholds.image, 0.7);

  settings.apply({ cameraId: 'cam2', thresholds: { pixel: 0.9 } }, { door: 'mqtt' });
  assert.equal(decisions.pixelThreshold('cam2'), 0.9);
  assert.equal(changes[1].origin.door, 'mqtt');
});

test('a refused change changes nothing and emits nothing', () => {
  const { settings, decisions, changes } = setup();
  const before = decisions.decider('cam1').getThresholds();
  assert.throws(
    () => settings.apply({ cameraId: 'cam1', className: 'nut', thresholds: { image: 2 } }, { door: 'mqtt' }),
    /invalid thresholds: image/,
  );
  assert.throws(
    () => settings.apply({ cameraId: 'ghost', className: 'nut' }, { door: 'dashboard', user: 'op' }),
    /no camera "ghost"/,
  );
  assert.throws(
    () => settings.apply({ cameraId: 'cam1', className: '   ' }, { door: 'sparkplug' }),
    /class name is empty/,
  );
  assert.equal(decisions.decider('cam1').getClassName(), 'screw');
  assert.deepEqual(decisions.decider('cam1').getThresholds(), before);
  assert.equal(settings.camera('cam1').className, 'screw');
  assert.equal(changes.length, 0);
});

test('a failing bus listener is logged and neither reaches the emitter nor stops the others', async () => {
  const { bus, text } = setup();
  const seen: string[] = [];
  bus.on('cameraState', () => {
    throw new Error('listener bug');
  });
  bus.on('cameraState', async () => {
    throw new Error('async listener bug');
  });
  const off = bus.on('cameraState', ({ cameraId }) => void seen.push(cameraId));
  bus.emit('cameraState', { cameraId: 'cam1', state: 'online' });
  off();
  bus.emit('cameraState', { cameraId: 'cam2', state: 'online' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['cam1'], 'called in order; nothing after unsubscribing');
  assert.match(text(), /listener bug/);
  assert.match(text(), /async listener bug/);
});
