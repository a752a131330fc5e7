// Inspection results (one per trigger) against their published JSON Schema, checked by an
// independent validator (Ajv, draft 2020-12), and against the zod schema the builders use; the
// verdict rule (ng at or above the image threshold, from a real Decider) and the error results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { DROP_REASONS } from '../../src/admit/drop-reasons.js';
import { cameraSchema } from '../../src/config/schema.js';
import { EventError } from '../../src/events/anomaly-event.js';
import {
  RESULT_ERROR_REASONS,
  RESULT_SCHEMA_ID,
  errorResult,
  resultFromDecision,
  validateInspectionResult,
  type ResultContext,
} from '../../src/events/inspection-result.js';
import { Decider } from '../../src/postprocess/decide.js';
import { ROOT } from '../helpers/fixtures.js';
import { CONTEXT } from '../helpers/documents.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'src/events/inspection-result.schema.json'), 'utf8'));
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: true });
(addFormats as unknown as (a: unknown) => void)(ajv);
const validate = ajv.compile(schema);

const context: ResultContext = CONTEXT;
const part = {
  cameraId: 'press',
  triggerId: 'f6a2b9d0-1c1e-4a8f-9e51-3f0d1c2b3a4c',
  partId: 'P-7',
  triggeredAtWall: Date.UTC(2026, 0, 2, 3, 4, 5),
};

/** A real decision on a 16 x 16 map with a hot 4 x 4 block scoring `score`. */
function decide(score: number, image = 0.5) {
  const d = new Decider(
    cameraSchema.parse({
      id: 'press',
      className: 'screw',
      source: { kind: 'synthetic' },
      thresholds: { image, pixel: 0.5 },
    }),
  );
  const map = new Float32Array(16 * 16);
  for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) map[y * 16 + x] = 0.9;
  return d.decide({
    seq: 3,
    capturedAtWall: part.triggeredAtWall + 20,
    score,
    scoreWithoutHsf: score - 0.01,
    mapSmoothed: map,
    mapSize: 16,
    source: { width: 64, height: 64, roi: { x: 0, y: 0, width: 64, height: 64 } },
  });
}

const wire = (doc: unknown) => JSON.parse(JSON.stringify(doc));

test("the schema file declares draft 2020-12 and its version; its error reasons are the code's", () => {
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.$id, RESULT_SCHEMA_ID);
  assert.deepEqual(schema.properties.reason.enum, [...RESULT_ERROR_REASONS]);
  // every reason a frame or trigger can be dropped for can end a trigger's result
  for (const r of DROP_REASONS) assert.ok(schema.properties.reason.enum.includes(r), r);
});

test('verdict: ng at or above the image threshold, ok below; both validate with Ajv and zod', () => {
  const ng = resultFromDecision(context, part, {
    d: decide(0.8),
    capturedAtWall: part.triggeredAtWall + 20,
    decidedAtWall: part.triggeredAtWall + 75,
    timings: { preprocess: 3, engine: 40 },
  });
  const ok = resultFromDecision(context, part, { d: decide(0.2), capturedAtWall: part.triggeredAtWall + 20 });
  const edge = resultFromDecision(context, part, {
    d: decide(0.5),
    capturedAtWall: part.triggeredAtWall + 20,
  });
  assert.equal(ng.verdict, 'ng');
  assert.equal(ok.verdict, 'ok');
  assert.equal(edge.verdict, 'ng', 'a score equal to the threshold is anomalous (score >= threshold)');
  for (const r of [ng, ok, edge]) assert.equal(validate(wire(r)), true, JSON.stringify(validate.errors));
  assert.equal(ng.partId, 'P-7');
  assert.equal(ng.triggerId, part.triggerId);
  assert.equal(ng.thresholds?.image, 0.5);
  assert.equal(ng.regionCount, ng.regions.length);
  assert.ok(ng.regions.length >= 1, 'the hot block is a region');
  // regions are in frame pixels: the 4 x 4 map block at 4..7 of 16 is 16..31 of 64
  assert.equal(ng.regions[0].x, 16);
  assert.equal(ng.latencyMs.trigger, 75);
  assert.equal(ng.latencyMs.engine, 40);
  assert.equal(ng.triggeredAt, new Date(part.triggeredAtWall).toISOString());
});

test('error results carry the reason and validate; the rules tie reason to verdict', () => {
  const e = errorResult(context, part, {
    reason: 'trigger-timeout',
    detail: 'no frame within 5000 ms',
    className: 'screw',
  });
  assert.equal(e.verdict, 'error');
  assert.equal(validate(wire(e)), true, JSON.stringify(validate.errors));
  const noPart = errorResult(
    context,
    { ...part, partId: undefined },
    { reason: 'suspended', className: 'screw' },
  );
  assert.equal(noPart.partId, undefined);
  assert.equal(validate(wire(noPart)), true);

  const good = wire(
    resultFromDecision(context, part, { d: decide(0.8), capturedAtWall: part.triggeredAtWall }),
  );
  const broken: [string, Record<string, unknown>][] = [
    ['error without a reason', { ...wire(e), reason: undefined }],
    ['ok with a reason', { ...good, verdict: 'ok', reason: 'shutdown' }],
    ['ng without a score', { ...good, score: undefined }],
    ['unknown verdict', { ...good, verdict: 'maybe' }],
    ['unknown reason', { ...wire(e), reason: 'gremlins' }],
    ['wrong type', { ...good, type: 'anomaly' }],
    ['unknown field', { ...good, extra: 1 }],
    ['bad id', { ...good, id: 'x' }],
    ['part id too long', { ...good, partId: 'p'.repeat(257) }],
  ];
  for (const [why, doc] of broken) {
    const d = wire(doc);
    assert.equal(validate(d), false, `Ajv accepted: ${why}`);
    assert.throws(() => validateInspectionResult(d), EventError, `zod accepted: ${why}`);
  }
});

test('the JSON Schema and the zod schema agree on fields', () => {
  const ng = resultFromDecision(context, part, {
    d: decide(0.8),
    capturedAtWall: part.triggeredAtWall,
    eventId: '01JDZ8Q6X1M3T4V5W6Y7Z8A9BC',
  });
  const keys = Object.keys(schema.properties).sort();
  for (const k of Object.keys(ng)) assert.ok(keys.includes(k), `schema lacks ${k}`);
  for (const k of schema.required as string[]) {
    const doc: Record<string, unknown> = { ...ng };
    delete doc[k];
    assert.throws(() => validateInspectionResult(doc), EventError, `zod accepted a result without ${k}`);
    assert.equal(validate(wire(doc)), false, `Ajv accepted a result without ${k}`);
  }
  assert.throws(
    () => errorResult(context, { ...part, triggeredAtWall: NaN }, { reason: 'shutdown', className: 'x' }),
    /invalid inspection result: triggeredAtWall/,
  );
});
