// The JSON API's route plugins (src/dashboard/routes/) on a fastify instance, over a real in-memory
// history and the real operator actions: filters, pages, grouping, CSV, acknowledgements, reviews,
// suspensions, thresholds, the live frame with its ETag, the probes; every bad request is a 400
// naming the field, a refusal its own status. (Login and roles are the auth plugin's: not here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { apiRoutes } from '../../src/dashboard/routes/index.js';
import type { ApiDeps } from '../../src/dashboard/routes/deps.js';
import { HistoryStore } from '../../src/history/history-store.js';
import { Acknowledgements } from '../../src/operator/acknowledgements.js';
import { AlarmBoard } from '../../src/operator/alarm-board.js';
import { Reviews } from '../../src/operator/reviews.js';
import { Suspensions } from '../../src/operator/suspensions.js';
import { SettingError } from '../../src/postprocess/decide.js';
import { readiness } from '../../src/service/readiness.js';
import { anomalyEvent, inspectionResult } from '../helpers/documents.js';

const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);

async function api(o: { history?: boolean; ready?: boolean } = {}) {
  const history = new HistoryStore({ path: ':memory:', maxAgeH: 24, maxRows: 1000 });
  history.open();
  const board = new AlarmBoard(['a', 'b'], () => undefined);
  const acks = new Acknowledgements({ history, board });
  const reviews = new Reviews({ history, snapshotDir: '/nonexistent', reviewsDir: '/tmp/unused-reviews' });
  const suspensions = new Suspensions(['a', 'b'], { history, changed: () => undefined });
  const thresholdCalls: unknown[] = [];
  const deps: ApiDeps = {
    status: () => ({
      site: 's',
      line: 'l',
      startedAt: '',
      model: { bundle: '', provenance: '', untrained: true, backend: '', hsf: '' },
      mqtt: { connected: true, url: '' },
      cameras: [],
    }),
    cameraIds: () => ['a', 'b'],
    history: o.history === false ? undefined : history,
    acknowledge: (id, origin, comment) => acks.acknowledge(id, origin, comment),
    review: (kind, id, label, origin, comment) => reviews.review(kind, id, label, origin, comment),
    suspend: (id, x, origin) => suspensions.suspend(id, x, origin),
    resume: (id, origin) => suspensions.resume(id, origin),
    setThresholds: (id, patch) => {
      if ((patch.clear ?? 0) > (patch.image ?? 1))
        throw new SettingError('invalid thresholds: clear must not exceed image');
      thresholdCalls.push([id, patch]);
      return { thresholds: patch };
    },
    liveFrame: (id) =>
      id === 'a'
        ? Promise.resolve({
            jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
            seq: 7,
            at: new Date(T0).toISOString(),
          })
        : undefined,
    readiness: () =>
      readiness({
        modelLoaded: true,
        mqttConnected: o.ready !== false,
        outboxPending: o.ready === false ? 50 : 0,
        highWater: 10,
        cameras: { a: 'online', b: 'suspended' },
      }),
    subscribe: () => () => undefined,
  };
  const app: FastifyInstance = Fastify();
  await app.register(apiRoutes, deps);
  await app.ready();
  return { app, history, board, suspensions, thresholdCalls };
}

const json = (r: { body: string }) => JSON.parse(r.body);

test('events: filters, pages, one event; a bad query names the field', async () => {
  const { app, history } = await api();
  const evs = [
    anomalyEvent('a', T0, { severity: 'critical' }),
    anomalyEvent('b', T0 + 1000),
    anomalyEvent('a', T0 + 2000),
  ];
  evs.forEach((e) => history.addEvent(e));
  const all = json(await app.inject('/api/events'));
  assert.deepEqual(
    all.items.map((e: { id: string }) => e.id),
    [evs[2].id, evs[1].id, evs[0].id],
  );
  const page1 = json(await app.inject('/api/events?limit=2'));
  assert.equal(page1.items.length, 2);
  const page2 = json(await app.inject(`/api/events?limit=2&cursor=${page1.next}`));
  assert.deepEqual(
    page2.items.map((e: { id: string }) => e.id),
    [evs[0].id],
  );
  assert.equal(json(await app.inject('/api/events?camera=a&severity=critical')).items.length, 1);
  assert.equal(
    json(await app.inject(`/api/events?since=${new Date(T0 + 500).toISOString()}`)).items.length,
    2,
  );
  assert.equal(json(await app.inject(`/api/events?until=${T0 + 500}`)).items.length, 1, 'epoch ms works too');
  assert.equal(json(await app.inject(`/api/events/${evs[1].id}`)).cameraId, 'b');
  for (const [url, field] of [
    ['/api/events?limit=0', /limit/],
    ['/api/events?severity=panic', /severity/],
    ['/api/events?since=yesterday', /since: an ISO 8601 date-time or epoch milliseconds/],
    ['/api/events?camera=a%2Fb', /camera: a camera id/],
    ['/api/events?cursor=abc', /cursor: a ULID/],
    ['/api/events?colour=red', /colour|Unrecognized/i],
    ['/api/events/not-an-id', /id: a ULID/],
  ] as const) {
    const r = await app.inject(url);
    assert.equal(r.statusCode, 400, url);
    assert.match(json(r).error, field, url);
  }
  assert.equal((await app.inject('/api/events/01JDZ8Q6X1M3T4V5W6Y7Z8A9BC')).statusCode, 404);
});

test('events grouped: a burst on one camera is one row that names how to expand it', async () => {
  const { app, history } = await api();
  // made in time order, as the service makes them (ids are time-ordered ULIDs)
  history.addEvent(anomalyEvent('a', T0 - 3_600_000));
  for (let i = 0; i < 6; i++) {
    history.addEvent(anomalyEvent('a', T0 + i * 5000));
    if (i === 0) history.addEvent(anomalyEvent('b', T0 + 3000));
  }
  const g = json(await app.inject('/api/events?group=burst&gapS=30'));
  assert.deepEqual(
    g.items.map((x: { cameraId: string; count: number }) => [x.cameraId, x.count]),
    [
      ['a', 6],
      ['b', 1],
      ['a', 1],
    ],
  );
  const burst = g.items[0];
  const expanded = json(await app.inject(`/api/events?camera=a&since=${burst.since}&until=${burst.until}`));
  assert.equal(expanded.items.length, 6);
  assert.deepEqual(
    expanded.items.map((e: { id: string }) => e.id),
    burst.eventIds,
  );
  const first = json(await app.inject('/api/events?group=burst&gapS=30&limit=1'));
  assert.equal(first.items.length, 1);
  assert.ok(first.next);
});

test('events grouped: a burst of more events than a row lists continues on the next page with the next burst', async () => {
  const { app, history } = await api();
  const older = anomalyEvent('b', T0 - 3_600_000);
  history.addEvent(older);
  for (let i = 0; i < 120; i++) history.addEvent(anomalyEvent('a', T0 + i * 1000));
  const first = json(await app.inject('/api/events?group=burst&gapS=30&limit=1'));
  assert.equal(first.items[0].count, 120);
  assert.equal(first.items[0].eventIds.length, 100, 'a row lists at most 100 ids');
  const second = json(await app.inject(`/api/events?group=burst&gapS=30&limit=1&cursor=${first.next}`));
  assert.deepEqual(
    second.items.map((g: { cameraId: string; count: number }) => [g.cameraId, g.count]),
    [['b', 1]],
    'the next page starts after the whole burst',
  );
  assert.equal(second.items[0].latest.id, older.id);
});

test('acknowledge and review an event: stored, once, with clear refusals', async () => {
  const { app, history, board } = await api();
  const raise = anomalyEvent('a', T0);
  history.addEvent(raise);
  board.onEvent(raise);
  const post = (url: string, body?: unknown) =>
    app.inject({ method: 'POST', url, ...(body !== undefined && { payload: body as object }) });
  const ok = await post(`/api/events/${raise.id}/ack`, { comment: 'on it' });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(json(ok).ok, true);
  assert.equal(json(ok).alarm.acknowledged.comment, 'on it');
  assert.equal(json(ok).acknowledgement.by, 'dashboard', 'no auth plugin here: the door is the actor');
  assert.equal((await post(`/api/events/${raise.id}/ack`, {})).statusCode, 409);
  assert.equal((await post(`/api/events/${raise.id}/ack`, { comment: 'x', extra: 1 })).statusCode, 400);
  assert.equal((await post(`/api/events/${raise.id}/ack`, { comment: 'x'.repeat(501) })).statusCode, 400);
  assert.equal((await post('/api/events/01JDZ8Q6X1M3T4V5W6Y7Z8A9BC/ack')).statusCode, 404);
  const rv = await post(`/api/events/${raise.id}/review`, { label: 'false-positive', comment: 'glare' });
  assert.equal(rv.statusCode, 200, rv.body);
  assert.equal(json(await app.inject(`/api/events/${raise.id}`)).review.label, 'false-positive');
  const bad = await post(`/api/events/${raise.id}/review`, { label: 'meh' });
  assert.equal(bad.statusCode, 400);
  assert.match(json(bad).error, /label/);
});

test('results: filters, CSV, review; an error result cannot be reviewed', async () => {
  const { app, history } = await api();
  const rs = [
    inspectionResult('a', T0, { partId: 'P1', score: 0.9 }),
    inspectionResult('a', T0 + 1, { partId: 'P2' }),
    inspectionResult('b', T0 + 2, { partId: 'P1', reason: 'suspended' }),
  ];
  rs.forEach((r) => history.addResult(r));
  assert.deepEqual(
    json(await app.inject('/api/results?partId=P1')).items.map((r: { verdict: string }) => r.verdict),
    ['error', 'ng'],
  );
  assert.equal(json(await app.inject('/api/results?verdict=ok')).items[0].partId, 'P2');
  const csv = await app.inject('/api/results?format=csv&camera=a');
  assert.equal(csv.statusCode, 200);
  assert.match(csv.headers['content-type'] as string, /^text\/csv/);
  const lines = csv.body.trim().split('\r\n');
  assert.equal(lines.length, 3, 'header and two rows');
  assert.match(lines[0], /^id,triggeredAt,/);
  assert.equal((await app.inject('/api/results?limit=5000')).statusCode, 400, 'JSON pages are at most 1000');
  assert.equal((await app.inject('/api/results?format=csv&limit=5000')).statusCode, 200);
  assert.equal((await app.inject('/api/results?verdict=maybe')).statusCode, 400);
  const r = await app.inject({
    method: 'POST',
    url: `/api/results/${rs[0].id}/review`,
    payload: { label: 'confirmed' },
  });
  assert.equal(r.statusCode, 200, r.body);
  const e = await app.inject({
    method: 'POST',
    url: `/api/results/${rs[2].id}/review`,
    payload: { label: 'confirmed' },
  });
  assert.equal(e.statusCode, 409);
});

test('cameras: suspend with a duration and resume; thresholds through the settings; live frame with ETag', async () => {
  const { app, suspensions, thresholdCalls } = await api();
  const s = await app.inject({
    method: 'POST',
    url: '/api/cameras/a/suspend',
    payload: { durationS: 600, comment: 'cleaning' },
  });
  assert.equal(s.statusCode, 200, s.body);
  assert.ok(json(s).suspension.until);
  assert.equal(suspensions.isSuspended('a'), true);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/cameras/a/suspend', payload: { durationS: -1 } }))
      .statusCode,
    400,
  );
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/cameras/zz/suspend', payload: {} })).statusCode,
    404,
  );
  const res = await app.inject({ method: 'POST', url: '/api/cameras/a/resume' });
  assert.deepEqual(json(res), { ok: true, resumed: true });
  assert.equal(suspensions.isSuspended('a'), false);
  suspensions.stop();

  const th = await app.inject({ method: 'POST', url: '/api/cameras/b/thresholds', payload: { image: 0.7 } });
  assert.equal(th.statusCode, 200, th.body);
  assert.deepEqual(thresholdCalls, [['b', { image: 0.7 }]]);
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/cameras/b/thresholds', payload: {} })).statusCode,
    400,
  );
  assert.equal(
    (await app.inject({ method: 'POST', url: '/api/cameras/b/thresholds', payload: { image: 2 } }))
      .statusCode,
    400,
  );
  const refused = await app.inject({
    method: 'POST',
    url: '/api/cameras/b/thresholds',
    payload: { image: 0.3, clear: 0.5 },
  });
  assert.equal(refused.statusCode, 400);
  assert.match(json(refused).error, /clear must not exceed image/);

  const live = await app.inject('/api/cameras/a/live.jpg');
  assert.equal(live.statusCode, 200);
  assert.equal(live.headers['content-type'], 'image/jpeg');
  assert.equal(live.headers.etag, '"a-7"');
  assert.equal(
    (await app.inject({ url: '/api/cameras/a/live.jpg', headers: { 'if-none-match': '"a-7"' } })).statusCode,
    304,
  );
  assert.equal((await app.inject('/api/cameras/b/live.jpg')).statusCode, 404, 'no frame yet');
});

test('probes: healthz always; readyz 503 with reasons; history disabled is a clear 503', async () => {
  const down = await api({ ready: false, history: false });
  assert.deepEqual(json(await down.app.inject('/healthz')), { ok: true });
  const r = await down.app.inject('/readyz');
  assert.equal(r.statusCode, 503);
  assert.equal(json(r).ready, false);
  assert.match(json(r).reasons[0], /broker not connected/);
  const h = await down.app.inject('/api/results');
  assert.equal(h.statusCode, 503);
  assert.match(json(h).error, /history\.enabled/);
  const up = await api();
  assert.equal((await up.app.inject('/readyz')).statusCode, 200);
});
