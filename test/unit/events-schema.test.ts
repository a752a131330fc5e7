// Built events against the published JSON Schema (draft 2020-12), checked by an independent validator
// (Ajv), and against the zod schema the builder uses; plus the id ordering guarantees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  attachSnapshots,
  buildEvent,
  EVENT_SCHEMA_ID,
  EVENT_SCHEMA_VERSION,
  EventError,
  validateEvent,
  type EventInput,
} from '../../src/events/anomaly-event.js';
import { eventIdTime, isEventId, newEventId } from '../../src/events/ids.js';
import { ROOT } from '../helpers/shared.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'src/events/anomaly-event.schema.json'), 'utf8'));

type Validate = ((doc: unknown) => boolean) & { errors?: unknown };

// Ajv 8 (the 2020-12 build) is not a direct dependency yet: it ships inside node_modules with
// ajv-formats and fastify. Find it there; without it the Ajv test skips and says why.
function loadAjv(): { compile: (s: object) => Validate } | string {
  const req = createRequire(import.meta.url);
  for (const anchor of [
    'ajv/package.json',
    'ajv-formats/package.json',
    '@fastify/ajv-compiler/package.json',
  ]) {
    try {
      const r = createRequire(req.resolve(anchor));
      const mod = r('ajv/dist/2020');
      const Ajv2020 = mod.default ?? mod;
      const ajv = new Ajv2020({ allErrors: true, strict: true });
      const fmts = r('ajv-formats');
      (fmts.default ?? fmts)(ajv);
      return ajv;
    } catch {
      // try the next place
    }
  }
  return 'Ajv 8 with draft 2020-12 support not found in node_modules';
}
const ajvOrWhy = loadAjv();
const ajv = typeof ajvOrWhy === 'string' ? undefined : ajvOrWhy;

function input(over: Partial<EventInput> = {}): EventInput {
  return {
    transition: 'raise',
    active: true,
    site: 'plant1',
    line: 'lineA',
    cameraId: 'cam1',
    frameSeq: 12,
    capturedAtWall: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    decidedAtWall: Date.UTC(2026, 0, 2, 3, 4, 5, 720),
    partId: 'P-42',
    className: 'screw',
    score: 0.83,
    scoreWithoutHsf: 0.8,
    thresholds: { image: 0.5, pixel: 0.45, clear: 0.4, minRegionAreaPct: 0.05 },
    anomalous: true,
    severity: 'warning',
    alarm: { raisedAtWall: Date.UTC(2026, 0, 2, 3, 4, 5, 678), peakScore: 0.83, frames: 1 },
    window: { k: 1, n: 1, hits: 1 },
    regions: [
      {
        x: 10,
        y: 20,
        width: 30,
        height: 40,
        areaPx: 900,
        areaPct: 0.12,
        maxScore: 0.9,
        meanScore: 0.7,
        centroid: { x: 25, y: 40 },
      },
    ],
    regionCount: 1,
    model: {
      bundleSha256: 'ab'.repeat(32),
      version: 'screws-2024.06',
      kind: 'checkpoint',
      untrained: false,
      architecture: 'ViT-L-14-336',
      imageSize: 518,
      hsf: true,
      checkpoints: {
        clip: { file: 'ViT-L-14-336px.pt', sha256: 'cd'.repeat(32) },
        adaclip: { file: 'pretrained_all.pth', sha256: 'ef'.repeat(32) },
      },
    },
    timings: { wait: 1, preprocess: 3.5, engine: 40.25, hsf: 4, decide: 1.2, total: 50 },
    ...over,
  };
}

const snap = {
  id: 'x-frame',
  kind: 'frame' as const,
  contentType: 'image/jpeg' as const,
  path: 'cam1/x-frame.jpg',
  topic: 'adaclip-edge/cam1/snapshot',
  bytes: 1234,
  width: 640,
  height: 480,
};

test('the schema file declares draft 2020-12 and carries the version in its $id', () => {
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.$id, EVENT_SCHEMA_ID);
  assert.ok(schema.$id.endsWith(`:${EVENT_SCHEMA_VERSION}`));
  assert.equal(schema.properties.schemaVersion.const, EVENT_SCHEMA_VERSION);
});

test(
  'built raise and clear events validate against the JSON Schema (Ajv)',
  { skip: ajv ? false : (ajvOrWhy as string) },
  () => {
    const validate = ajv!.compile(schema);
    const raise = attachSnapshots(buildEvent(input()), [snap, { ...snap, id: 'x-overlay', kind: 'overlay' }]);
    const clear = buildEvent(
      input({
        transition: 'clear',
        active: false,
        alarmId: raise.id,
        anomalous: false,
        severity: 'info',
        partId: undefined,
        alarm: {
          raisedAtWall: Date.UTC(2026, 0, 2, 3, 4, 5),
          peakScore: 0.9,
          frames: 3,
          clearedAtWall: Date.UTC(2026, 0, 2, 3, 4, 9),
        },
        regions: [],
        regionCount: 0,
        model: { ...input().model, kind: 'untrained-test', untrained: true, checkpoints: {} },
        timings: undefined,
      }),
    );
    for (const ev of [raise, clear]) {
      // a JSON round trip: what subscribers get
      const wire = JSON.parse(JSON.stringify(ev));
      assert.equal(validate(wire), true, JSON.stringify(validate.errors));
    }
    assert.equal(clear.alarm.durationMs, 4000);
    assert.equal(raise.snapshots.length, 2);
  },
);

test('Ajv and zod both reject broken documents', { skip: ajv ? false : (ajvOrWhy as string) }, () => {
  const validate = ajv!.compile(schema);
  const good = JSON.parse(JSON.stringify(buildEvent(input())));
  const broken: [string, Record<string, unknown>][] = [
    ['missing id', { ...good, id: undefined }],
    ['bad id', { ...good, id: 'not-a-ulid' }],
    ['wrong version', { ...good, schemaVersion: '2.0' }],
    ['unknown field', { ...good, extra: 1 }],
    ['threshold above 1', { ...good, threshold: 1.2 }],
    ['bad severity', { ...good, severity: 'panic' }],
    ['bad time', { ...good, capturedAt: '2026-01-02 03:04:05' }],
    ['region without centroid', { ...good, regions: [{ ...good.regions[0], centroid: undefined }] }],
    ['snapshot with bytes inline', { ...good, snapshots: [{ ...snap, data: 'AAAA' }] }],
    ['short model hash', { ...good, model: { ...good.model, bundleSha256: 'abc' } }],
  ];
  for (const [why, doc] of broken) {
    const d = JSON.parse(JSON.stringify(doc));
    assert.equal(validate(d), false, `Ajv accepted: ${why}`);
    assert.throws(() => validateEvent(d), EventError, `zod accepted: ${why}`);
  }
});

test('the JSON Schema and the zod schema agree on fields and required fields', () => {
  const good = buildEvent(input());
  const keys = Object.keys(schema.properties).sort();
  const built = Object.keys(good).sort();
  // every field the builder writes is in the schema; every schema field but the optional ones is written
  for (const k of built) assert.ok(keys.includes(k), `schema lacks ${k}`);
  for (const k of schema.required as string[]) assert.ok(built.includes(k), `builder omits required ${k}`);
  for (const k of keys.filter((k) => !(schema.required as string[]).includes(k)))
    assert.ok(['partId', 'triggerId'].includes(k), `unexpected optional field ${k}`);
  // drop each required field in turn: zod must refuse too
  for (const k of schema.required as string[]) {
    const doc: Record<string, unknown> = { ...good };
    delete doc[k];
    assert.throws(() => validateEvent(doc), EventError, `zod accepted a document without ${k}`);
  }
});

test('the builder names the bad field', () => {
  assert.throws(() => buildEvent(input({ cameraId: '' })), /cameraId/);
  assert.throws(() => buildEvent(input({ capturedAtWall: NaN })), /capturedAtWall/);
  assert.throws(
    () => buildEvent(input({ model: { ...input().model, bundleSha256: 'XYZ' } })),
    /model.bundleSha256/,
  );
});

test('event ids are ULIDs, strictly increasing even within one millisecond, and carry their time', () => {
  const t = Date.UTC(2026, 5, 1);
  const ids = Array.from({ length: 1000 }, () => newEventId(t));
  for (const id of ids) assert.ok(isEventId(id), id);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${ids[i]} <= ${ids[i - 1]}`);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(eventIdTime(newEventId(t + 5000)), t + 5000);
  const later = newEventId(t + 10_000);
  assert.ok(later > ids[ids.length - 1]);
});
