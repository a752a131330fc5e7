// /readyz's rule, and the live status a camera card shows: "suspended" over the source's state, the
// alarm with its acknowledgement, and an fps that falls to 0 once frames stop (a camera that went
// offline must not keep showing the rate it had: the card said "offline" beside "4.0 fps").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../src/config/schema.js';
import { readiness } from '../../src/service/readiness.js';
import { LiveStatus } from '../../src/service/live-status.js';
import { Decider } from '../../src/postprocess/decide.js';

test('ready: model loaded, broker connected or the outbox below its high-water mark, every camera has a state', () => {
  const base = {
    modelLoaded: true,
    mqttConnected: true,
    outboxPending: 0,
    highWater: 10,
    cameras: { a: 'online', b: 'suspended' },
  };
  assert.deepEqual(readiness(base).reasons, []);
  assert.equal(readiness(base).ready, true);
  assert.equal(
    readiness({ ...base, mqttConnected: false, outboxPending: 9 }).ready,
    true,
    'a short outage is no reason',
  );
  const down = readiness({ ...base, mqttConnected: false, outboxPending: 10 });
  assert.equal(down.ready, false);
  assert.match(
    down.reasons[0],
    /broker not connected and 10 documents wait in the outbox \(high-water mark 10\)/,
  );
  assert.equal(
    readiness({ ...base, mqttConnected: true, outboxPending: 1000 }).ready,
    true,
    'connected: it is draining',
  );
  const starting = readiness({ ...base, modelLoaded: false, cameras: { a: undefined } });
  assert.deepEqual(starting.reasons, ['model: not loaded yet', 'camera a: no state yet']);
});

test('the camera card: suspended over the source state, alarm and acknowledgement, fps that falls to 0', async () => {
  const cfg = configSchema.parse({
    model: { bundle: 'x' },
    cameras: [{ id: 'a', className: 'screw', source: { kind: 'synthetic' }, thresholds: { image: 0.5 } }],
  });
  let clock = 100_000;
  const s = new LiveStatus(cfg, () => clock);
  s.setCameraState('a', 'online');
  const d = new Decider(cfg.cameras[0]).decide({
    seq: 0,
    capturedAtWall: Date.now(),
    score: 0.3,
    scoreWithoutHsf: 0.3,
    mapSmoothed: new Float32Array(16 * 16),
    mapSize: 16,
    source: { width: 16, height: 16, roi: { x: 0, y: 0, width: 16, height: 16 } },
  });
  // four frames 250 ms apart, the last one just now: 4 fps
  for (let i = 3; i >= 0; i--) s.recordFrame('a', d, Date.now(), clock - i * 250 - 5, clock - i * 250);
  const fps = s.snapshot().cameras[0].fps!;
  assert.ok(fps > 3 && fps <= 4.1, `about 4 fps, got ${fps}`);
  assert.equal(s.snapshot().cameras[0].state, 'online');

  s.setSuspension('a', {
    cameraId: 'a',
    since: new Date().toISOString(),
    until: '2030-01-01T00:00:00.000Z',
    by: 'ann',
    door: 'dashboard',
  });
  const card = s.snapshot().cameras[0];
  assert.equal(card.state, 'suspended');
  assert.equal(card.suspendedUntil, '2030-01-01T00:00:00.000Z');
  s.setSuspension('a', undefined);
  assert.equal(s.snapshot().cameras[0].state, 'online');

  s.setAlarm({
    cameraId: 'a',
    active: true,
    eventId: 'E1',
    alarmId: 'E1',
    since: 'T',
    acknowledged: { by: 'ann', at: 'T2' },
  });
  assert.deepEqual(s.snapshot().cameras[0].alarm, {
    active: true,
    eventId: 'E1',
    since: 'T',
    acknowledged: { by: 'ann', at: 'T2' },
  });

  // frames stop (the camera went offline): the rate decays instead of staying at 4
  s.setCameraState('a', 'offline');
  const later = s.snapshot();
  assert.equal(later.cameras[0].state, 'offline');
  clock += 5000;
  const decaying = s.snapshot().cameras[0].fps!;
  assert.ok(decaying > 0 && decaying < 1, `5 s without a frame: the rate falls (${decaying})`);
  clock += 6000;
  assert.equal(s.snapshot().cameras[0].fps, 0, 'nothing in the last 10 s: 0 fps');
});
