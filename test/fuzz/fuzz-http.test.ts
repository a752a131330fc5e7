// Fuzzing the dashboard's JSON API (the route plugins on fastify, over a real in-memory history and
// the real operator actions): random bodies (JSON or not, any content type), ids and query strings
// on every route. Never a 5xx; every refusal is a JSON { error } that says what is wrong; a
// threshold write that is accepted carries values in range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import Fastify from 'fastify';
import { apiRoutes } from '../../src/dashboard/routes/index.js';
import type { ApiDeps } from '../../src/dashboard/routes/deps.js';
import { HistoryStore } from '../../src/history/history-store.js';
import { Acknowledgements } from '../../src/operator/acknowledgements.js';
import { AlarmBoard } from '../../src/operator/alarm-board.js';
import { Reviews } from '../../src/operator/reviews.js';
import { Suspensions } from '../../src/operator/suspensions.js';
import { Decider } from '../../src/postprocess/decide.js';
import { readiness } from '../../src/service/readiness.js';
import { anomalyEvent } from '../helpers/documents.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

async function app() {
  const history = new HistoryStore({ path: ':memory:', maxAgeH: 24, maxRows: 1000 });
  history.open();
  const ev = anomalyEvent('a', Date.UTC(2026, 5, 1, 8));
  history.addEvent(ev);
  const board = new AlarmBoard(['a', 'b'], () => undefined);
  const acks = new Acknowledgements({ history, board });
  const reviews = new Reviews({ history, snapshotDir: '/nonexistent', reviewsDir: '/tmp/fz-unused-reviews' });
  const suspensions = new Suspensions(['a', 'b'], { history, changed: () => undefined });
  const decider = new Decider({
    id: 'a',
    className: 'screw',
    thresholds: { image: 0.5, pixel: 0.4, minRegionAreaPct: 0 },
    decision: { k: 1, n: 1, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } },
  });
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
    history,
    acknowledge: (id, origin, comment) => acks.acknowledge(id, origin, comment),
    review: (kind, id, label, origin, comment) => reviews.review(kind, id, label, origin, comment),
    suspend: (id, x, origin) => suspensions.suspend(id, x, origin),
    resume: (id, origin) => suspensions.resume(id, origin),
    setThresholds: (id, patch) => {
      if (id !== 'a') return { thresholds: patch };
      return { thresholds: decider.applySettings({ thresholds: patch }).thresholds };
    },
    liveFrame: () => undefined,
    readiness: () =>
      readiness({
        modelLoaded: true,
        mqttConnected: true,
        outboxPending: 0,
        highWater: 10,
        cameras: { a: 'online', b: 'online' },
      }),
    subscribe: () => () => undefined,
  };
  const a = Fastify();
  await a.register(apiRoutes, deps);
  await a.ready();
  return { a, decider, eventId: ev.id };
}

const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'zz', '', '..', '%00', '%2F', 'a%20b'),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);
const body = fc.oneof(
  fc.jsonValue().map((v) => ({ type: 'application/json', text: JSON.stringify(v) })),
  fc
    .record(
      {
        durationS: fc.oneof(fc.double(), fc.jsonValue()),
        comment: fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue()),
        label: fc.oneof(fc.constantFrom('defect', 'ok', 'false-alarm', 'missed'), fc.string()),
        image: fc.oneof(fc.double({ min: -1, max: 2 }), fc.jsonValue()),
        pixel: fc.oneof(fc.double({ min: -1, max: 2 }), fc.jsonValue()),
        clear: fc.oneof(fc.double({ min: -1, max: 2 }), fc.jsonValue()),
        minRegionAreaPct: fc.oneof(fc.double({ min: -10, max: 120 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((v) => ({ type: 'application/json', text: JSON.stringify(v) })),
  fc.record({
    type: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
    ),
    text: fc.string({ maxLength: 200 }),
  }),
);
const request = fc.oneof(
  fc.record({
    method: fc.constant('POST' as const),
    route: fc.constantFrom(
      'cameras/%s/suspend',
      'cameras/%s/resume',
      'cameras/%s/thresholds',
      'events/%s/ack',
      'events/%s/review',
      'results/%s/review',
    ),
    id: segment,
    body,
  }),
  fc.record({
    method: fc.constant('GET' as const),
    route: fc.constantFrom('events?%s', 'results?%s', 'events/%s', 'results/%s', 'results?format=csv&%s'),
    id: fc.oneof(
      segment,
      fc
        .dictionary(
          fc.constantFrom('limit', 'camera', 'since', 'until', 'severity', 'cursor', 'verdict', 'group', 'x'),
          fc.string({ maxLength: 20 }),
        )
        .map((d) => new URLSearchParams(d).toString()),
    ),
    body: fc.constant(undefined),
  }),
);

test('dashboard API: random requests never give a 5xx; every refusal names the problem', async () => {
  const { a, decider, eventId } = await app();
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(request, fc.boolean(), async (r, realEvent) => {
      const id = realEvent && r.route.startsWith('events/%s') ? eventId : r.id;
      const url = `/api/${r.route.replace('%s', id)}`;
      const res = await a.inject({
        method: r.method,
        url,
        ...(r.body && { headers: { 'content-type': r.body.type }, payload: r.body.text }),
      });
      assert.ok(
        res.statusCode < 500,
        `${r.method} ${url} ${r.body?.text ?? ''}: ${res.statusCode} ${res.body}`,
      );
      if (res.statusCode >= 400) {
        const err =
          (JSON.parse(res.body) as { error?: unknown }).error ??
          (JSON.parse(res.body) as { message?: unknown }).message;
        assert.equal(typeof err, 'string', res.body);
        assert.ok((err as string).length > 0);
      } else if (r.method === 'POST') accepted++;
      const t = decider.getThresholds();
      for (const v of [t.image, t.pixel, t.clear]) assert.ok(v >= 0 && v <= 1, JSON.stringify(t));
    }),
    { numRuns: RUNS },
  );
  assert.ok(accepted > 0, 'some writes are accepted');
  await a.close();
});
