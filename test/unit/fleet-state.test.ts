// The fleet view's model of the devices, fed with the messages devices publish (topics and payloads
// as docs/mqtt.md describes them, under the central's <site>/adaclip-edge/<line> bases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetState } from '../../src/fleet/fleet-state.js';

const A = 'site-a/adaclip-edge/line-1';
const B = 'site-b/adaclip-edge/line-2';
const SHA1 = '1'.repeat(64);
const SHA2 = '2'.repeat(64);
const json = (o: object) => Buffer.from(JSON.stringify(o));

test('devices from their retained topics: availability, info, outbox, camera state and alarm', () => {
  let now = Date.parse('2026-12-01T10:00:00Z');
  const f = new FleetState(['+/adaclip-edge/+'], () => now);
  f.ingest(`${A}/availability`, Buffer.from('online'));
  f.ingest(
    `${A}/info`,
    json({
      site: 'site-a',
      line: 'line-1',
      software: 'adaclip-edge 0.1.0',
      model: { sha256: SHA1, version: 'v1' },
      cameras: ['cam1', 'cam2'],
      dashboardUrl: 'http://10.0.0.5:8080',
    }),
  );
  f.ingest(
    `${A}/outbox`,
    json({ pending: 7, dropped: 1, rejected: 0, brokerRejected: 0, ts: '2026-12-01T09:59:00Z' }),
  );
  f.ingest(
    `${A}/cam1/state`,
    json({
      status: 'online',
      lastScore: 0.2,
      ts: '2026-12-01T09:59:00Z',
      model: { sha256: SHA1, version: 'v1' },
    }),
  );
  f.ingest(
    `${A}/cam1/alarm`,
    json({ cameraId: 'cam1', active: true, severity: 'critical', since: '2026-12-01T09:58:00Z' }),
  );
  f.ingest(`${B}/availability`, Buffer.from('offline'));
  f.ingest(`${B}/cam1/state`, json({ status: 'offline', model: { sha256: SHA2, version: 'v2' } }));
  f.ingest(
    `${B}/cam1/alarm`,
    json({ cameraId: 'cam1', active: true, acknowledged: { by: 'ana', at: '2026-12-01T09:00:00Z' } }),
  );
  now += 1000;
  const s = f.snapshot();
  assert.deepEqual(
    s.devices.map((d) => [d.base, d.online]),
    [
      [A, true],
      [B, false],
    ],
  );
  const a = s.devices[0];
  assert.equal(a.site, 'site-a');
  assert.deepEqual(a.model, { sha256: SHA1, version: 'v1' });
  assert.equal(a.dashboardUrl, 'http://10.0.0.5:8080');
  assert.deepEqual(a.outbox, {
    pending: 7,
    dropped: 1,
    rejected: 0,
    brokerRejected: 0,
    at: '2026-12-01T09:59:00Z',
  });
  assert.deepEqual(
    a.cameras.map((c) => c.id),
    ['cam1', 'cam2'],
    'cameras named by info are listed even before their state',
  );
  assert.equal(a.cameras[0].status, 'online');
  assert.equal(a.cameras[0].lastScore, 0.2);
  assert.deepEqual(a.cameras[0].alarm, { active: true, severity: 'critical', since: '2026-12-01T09:58:00Z' });
  assert.equal(a.openAlarms, 1);
  // B has no info: its model comes from its camera state
  assert.deepEqual(s.devices[1].model, { sha256: SHA2, version: 'v2' });
  assert.equal(s.devices[1].cameras[0].alarm?.acknowledgedBy, 'ana');
  assert.deepEqual(s.summary, {
    devices: 2,
    online: 1,
    offline: 1,
    openAlarms: 2,
    models: [
      { sha256: SHA1, version: 'v1', devices: 1 },
      { sha256: SHA2, version: 'v2', devices: 1 },
    ],
  });
});

test('the newest score wins, whether from stats, state, an event or a result', () => {
  const f = new FleetState(['+/adaclip-edge/+']);
  f.ingest(`${A}/cam1/event`, json({ id: 'e1', score: 0.9, capturedAt: '2026-12-01T10:00:02Z' }));
  f.ingest(`${A}/stats`, json({ ts: '2026-12-01T10:00:01Z', cameras: { cam1: { lastScore: 0.1 } } }));
  assert.equal(f.snapshot().devices[0].cameras[0].lastScore, 0.9, 'older stats do not override');
  f.ingest(`${A}/cam1/result`, json({ id: 'r1', score: 0.4, capturedAt: '2026-12-01T10:00:03Z' }));
  assert.equal(f.snapshot().devices[0].cameras[0].lastScore, 0.4);
  assert.equal(f.snapshot().devices[0].cameras[0].lastScoreAt, '2026-12-01T10:00:03.000Z');
});

test('a cleared retained state removes the camera; an alarm cleared by the device closes', () => {
  const f = new FleetState(['+/adaclip-edge/+']);
  f.ingest(`${A}/cam1/state`, json({ status: 'online' }));
  f.ingest(`${A}/cam2/state`, json({ status: 'online' }));
  f.ingest(`${A}/cam2/alarm`, json({ active: true }));
  f.ingest(`${A}/cam2/state`, Buffer.alloc(0));
  f.ingest(`${A}/cam2/alarm`, Buffer.alloc(0));
  const d = f.snapshot().devices[0];
  assert.deepEqual(
    d.cameras.map((c) => c.id),
    ['cam1'],
  );
  assert.equal(d.openAlarms, 0);
});

test('junk is counted and ignored; other topics and unsafe links are not taken', () => {
  const f = new FleetState(['+/adaclip-edge/+']);
  f.ingest(`${A}/info`, Buffer.from('{not json'));
  f.ingest(`${A}/outbox`, Buffer.from('[1,2]'));
  f.ingest(`${A}/availability`, Buffer.from('maybe'));
  f.ingest(`${A}/cam1/state`, Buffer.alloc(300 * 1024, 0x20));
  f.ingest('elsewhere/adaclip-edge/line-9', Buffer.from('online'));
  f.ingest(`${B}/info`, json({ site: 'b', dashboardUrl: 'javascript:alert(1)' }));
  const s = f.snapshot();
  assert.equal(s.unreadable, 4);
  assert.equal(s.devices.find((d) => d.base === B)?.dashboardUrl, undefined);
  assert.deepEqual(
    s.devices.map((d) => d.base),
    [A, B],
  );
});

test('subscriptions cover the read topics only; a base filter with # is refused', () => {
  const f = new FleetState(['+/adaclip-edge/+', 'adaclip-edge/+']);
  assert.ok(f.subscriptions().includes('+/adaclip-edge/+/+/alarm'));
  assert.ok(f.subscriptions().includes('adaclip-edge/+/info'));
  assert.ok(!f.subscriptions().some((s) => s.endsWith('snapshot') || s.includes('request')));
  assert.throws(() => new FleetState(['adaclip-edge/#']), /no #/);
  assert.throws(() => new FleetState([]), /at least one/);
});
