// The anomaly event document (schema version 1.2): what the service tells the world when an alarm is
// raised or cleared. anomaly-event.schema.json is its public contract (JSON Schema 2020-12); the zod
// schema below is what the builder checks every event against before it leaves. docs/events.md
// explains the fields and the versioning rule. Change both schemas together and bump the version.
import { z } from 'zod';
import type { Region } from '../geometry/region.js';
import { PROVENANCE_KINDS } from '../model/manifest.js';
import type { Severity } from '../postprocess/severity.js';
import type { Transition } from '../postprocess/temporal.js';
import type { StageTimings } from '../util/timings.js';
import { newEventId, ULID_PATTERN } from './ids.js';
import type { ModelProvenance } from './provenance.js';

export const EVENT_SCHEMA_VERSION = '1.2';
export const EVENT_SCHEMA_ID = `urn:adaclip-edge:schema:anomaly-event:${EVENT_SCHEMA_VERSION}`;

export const ulid = z.string().regex(new RegExp(ULID_PATTERN), 'a ULID');
export const isoTime = z.iso.datetime({ offset: false });
const score = z.number().finite();
const unit = z.number().min(0).max(1);
const nonNegInt = z.number().int().min(0);
export const topicId = z.string().min(1).max(64);

export const regionSchema = z.strictObject({
  x: nonNegInt,
  y: nonNegInt,
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  areaPx: nonNegInt,
  areaPct: z.number().min(0).max(100),
  maxScore: score,
  meanScore: score,
  centroid: z.strictObject({ x: z.number().min(0), y: z.number().min(0) }),
});

const checkpointSchema = z.strictObject({ file: z.string().min(1), sha256: z.string().min(1) });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/** A synthetic-trained model's training (since 1.2). */
export const trainingSchema = z.strictObject({
  note: z.string().min(1),
  kinds: z.array(z.string().min(1)).min(1),
  trainSeeds: z.array(z.number().int()).min(1),
  steps: z.number().int().positive(),
  trainingSeconds: z.number().min(0),
  recordSha256: sha256Hex,
});

export const modelSchema = z
  .strictObject({
    bundleSha256: sha256Hex,
    /** The bundle's manifest version, or "unversioned" (since 1.1). */
    version: z.string().min(1).max(64).optional(),
    kind: z.enum(PROVENANCE_KINDS),
    untrained: z.boolean(),
    /** What a synthetic-trained model was trained on, and its note (since 1.2; only for that kind). */
    training: trainingSchema.optional(),
    architecture: z.string().min(1),
    imageSize: z.number().int().positive(),
    hsf: z.boolean(),
    checkpoints: z.strictObject({ clip: checkpointSchema.optional(), adaclip: checkpointSchema.optional() }),
  })
  .superRefine((m, ctx) => {
    if (m.kind === 'synthetic-trained' && !m.training)
      ctx.addIssue({
        code: 'custom',
        path: ['training'],
        message: 'a synthetic-trained model carries its training',
      });
    if (m.kind !== 'synthetic-trained' && m.training)
      ctx.addIssue({
        code: 'custom',
        path: ['training'],
        message: `only a synthetic-trained model has training, not ${m.kind}`,
      });
  });

export const snapshotRefSchema = z.strictObject({
  id: z.string().min(1).max(128),
  kind: z.enum(['frame', 'overlay']),
  contentType: z.literal('image/jpeg'),
  /** Path on the edge device, relative to snapshots.dir. */
  path: z.string().min(1),
  /** MQTT topic the bytes are published on, when they are. */
  topic: z.string().min(1).optional(),
  bytes: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

export const latencySchema = z.strictObject({
  wait: z.number().min(0).optional(),
  queue: z.number().min(0).optional(),
  preprocess: z.number().min(0).optional(),
  engine: z.number().min(0).optional(),
  hsf: z.number().min(0).optional(),
  decide: z.number().min(0).optional(),
  publish: z.number().min(0).optional(),
  total: z.number().min(0).optional(),
});

export const anomalyEventSchema = z.strictObject({
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  id: ulid,
  type: z.literal('anomaly'),
  transition: z.enum(['raise', 'clear']),
  alarmId: ulid,
  active: z.boolean(),
  capturedAt: isoTime,
  decidedAt: isoTime,
  site: topicId,
  line: topicId,
  cameraId: topicId,
  frameSeq: nonNegInt,
  partId: z.string().min(1).max(256).optional(),
  triggerId: z.string().min(1).max(256).optional(),
  className: z.string().min(1).max(128),
  score,
  scoreWithoutHsf: score,
  threshold: unit,
  thresholds: z.strictObject({
    image: unit,
    pixel: unit,
    clear: unit,
    minRegionAreaPct: z.number().min(0).max(100),
  }),
  anomalous: z.boolean(),
  severity: z.enum(['info', 'warning', 'critical']),
  alarm: z.strictObject({
    raisedAt: isoTime,
    peakScore: score,
    frames: z.number().int().min(1),
    clearedAt: isoTime.optional(),
    durationMs: z.number().min(0).optional(),
  }),
  window: z.strictObject({ k: z.number().int().min(1), n: z.number().int().min(1), hits: nonNegInt }),
  regions: z.array(regionSchema),
  regionCount: nonNegInt,
  model: modelSchema,
  latencyMs: latencySchema,
  snapshots: z.array(snapshotRefSchema),
});

export type AnomalyEvent = z.infer<typeof anomalyEventSchema>;
export type SnapshotRef = z.infer<typeof snapshotRefSchema>;

export class EventError extends Error {
  override name = 'EventError';
}

export interface EventInput {
  transition: Transition;
  /** Id of the raise event this alarm started with; absent for a raise (the event's own id is used). */
  alarmId?: string;
  active: boolean;
  site: string;
  line: string;
  cameraId: string;
  frameSeq: number;
  capturedAtWall: number;
  decidedAtWall: number;
  partId?: string;
  triggerId?: string;
  className: string;
  score: number;
  scoreWithoutHsf: number;
  thresholds: { image: number; pixel: number; clear: number; minRegionAreaPct: number };
  anomalous: boolean;
  severity: Severity;
  alarm: { raisedAtWall: number; peakScore: number; frames: number; clearedAtWall?: number };
  window: { k: number; n: number; hits: number };
  regions: Region[];
  regionCount: number;
  model: ModelProvenance;
  timings?: StageTimings;
  snapshots?: SnapshotRef[];
}

/** Builds and validates one event; throws EventError naming the offending field. */
export function buildEvent(input: EventInput): AnomalyEvent {
  const id = newEventId(input.decidedAtWall);
  const alarm: AnomalyEvent['alarm'] = {
    raisedAt: iso(input.alarm.raisedAtWall, 'alarm.raisedAtWall'),
    peakScore: input.alarm.peakScore,
    frames: input.alarm.frames,
  };
  if (input.alarm.clearedAtWall !== undefined) {
    alarm.clearedAt = iso(input.alarm.clearedAtWall, 'alarm.clearedAtWall');
    alarm.durationMs = Math.max(0, input.alarm.clearedAtWall - input.alarm.raisedAtWall);
  }
  const doc: Record<string, unknown> = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    id,
    type: 'anomaly',
    transition: input.transition,
    alarmId: input.alarmId ?? id,
    active: input.active,
    capturedAt: iso(input.capturedAtWall, 'capturedAtWall'),
    decidedAt: iso(input.decidedAtWall, 'decidedAtWall'),
    site: input.site,
    line: input.line,
    cameraId: input.cameraId,
    frameSeq: input.frameSeq,
    className: input.className,
    score: input.score,
    scoreWithoutHsf: input.scoreWithoutHsf,
    threshold: input.thresholds.image,
    thresholds: { ...input.thresholds },
    anomalous: input.anomalous,
    severity: input.severity,
    alarm,
    window: { ...input.window },
    regions: input.regions.map((r) => ({ ...r, centroid: { ...r.centroid } })),
    regionCount: input.regionCount,
    model: structuredClone(input.model),
    latencyMs: latencies(input.timings),
    snapshots: (input.snapshots ?? []).map((s) => ({ ...s })),
  };
  if (input.partId !== undefined) doc.partId = input.partId;
  if (input.triggerId !== undefined) doc.triggerId = input.triggerId;
  return validateEvent(doc);
}

/** Returns a copy of the event with snapshot references added (validated again). */
export function attachSnapshots(event: AnomalyEvent, refs: SnapshotRef[]): AnomalyEvent {
  return validateEvent({ ...event, snapshots: [...event.snapshots, ...refs] });
}

export function validateEvent(doc: unknown): AnomalyEvent {
  return validateDocument(anomalyEventSchema, doc, 'anomaly event');
}

/** Checks a document against its zod schema; throws EventError naming every bad field. */
export function validateDocument<T>(schema: z.ZodType<T>, doc: unknown, what: string): T {
  const r = schema.safeParse(doc);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EventError(`invalid ${what}: ${issues}`);
  }
  return r.data;
}

/** Epoch ms as an ISO time; throws EventError naming the field for a non-finite value. */
export function iso(ms: number, field: string, doc = 'anomaly event'): string {
  if (!Number.isFinite(ms))
    throw new EventError(`invalid ${doc}: ${field} must be a finite epoch ms, got ${ms}`);
  return new Date(ms).toISOString();
}

/** Stage timings as a document's latencyMs: finite values only, in ms rounded to the microsecond. */
export function latencies(t: StageTimings | undefined): AnomalyEvent['latencyMs'] {
  const out: AnomalyEvent['latencyMs'] = {};
  if (!t) return out;
  for (const key of ['wait', 'queue', 'preprocess', 'engine', 'hsf', 'decide', 'publish', 'total'] as const) {
    const v = t[key];
    if (v !== undefined && Number.isFinite(v)) out[key] = Math.max(0, Math.round(v * 1000) / 1000);
  }
  return out;
}
