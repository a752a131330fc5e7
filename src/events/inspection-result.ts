// The inspection result document (schema version 1.2): one per trigger of a trigger camera, the
// per-part verdict a PLC's reject gate and traceability need. Unlike an anomaly event (an alarm's
// raise or clear, after the temporal filter), a result judges this one frame: `ng` when its score
// reached the image threshold, `ok` below it, and `error` (with the reason) when the part could not
// be inspected at all. inspection-result.schema.json is its public contract (JSON Schema 2020-12);
// the zod schema below is what every result is checked against before it leaves. docs/results.md
// explains the fields. Change both schemas together and bump the version.
import { z } from 'zod';
import { DROP_REASONS } from '../admit/drop-reasons.js';
import type { Region } from '../geometry/region.js';
import type { DecideResult } from '../postprocess/decide.js';
import type { StageTimings } from '../util/timings.js';
import {
  iso,
  isoTime,
  latencies,
  latencySchema,
  modelSchema,
  regionSchema,
  snapshotRefSchema,
  topicId,
  ulid,
  validateDocument,
  type SnapshotRef,
} from './anomaly-event.js';
import { newEventId } from './ids.js';
import type { ModelProvenance } from './provenance.js';

export const RESULT_SCHEMA_VERSION = '1.2';
export const RESULT_SCHEMA_ID = `urn:adaclip-edge:schema:inspection-result:${RESULT_SCHEMA_VERSION}`;

/**
 * Why a trigger has verdict `error`: a reason a frame or trigger left the pipeline uninspected
 * (src/admit/drop-reasons.ts: trigger-rejected, trigger-timeout, preprocess-error, engine-error,
 * suspended, shutdown, ...), or result-timeout (no outcome within the camera's resultTimeoutMs).
 */
export const RESULT_ERROR_REASONS = [...DROP_REASONS, 'result-timeout'] as const;
export type ResultErrorReason = (typeof RESULT_ERROR_REASONS)[number];
export type Verdict = 'ok' | 'ng' | 'error';

const unit = z.number().min(0).max(1);
const partText = z.string().min(1).max(256);

export const inspectionResultSchema = z
  .strictObject({
    schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
    id: ulid,
    type: z.literal('inspection'),
    site: topicId,
    line: topicId,
    cameraId: topicId,
    triggerId: partText,
    partId: partText.optional(),
    verdict: z.enum(['ok', 'ng', 'error']),
    reason: z.enum(RESULT_ERROR_REASONS).optional(),
    detail: z.string().min(1).max(1000).optional(),
    triggeredAt: isoTime,
    capturedAt: isoTime.optional(),
    decidedAt: isoTime,
    frameSeq: z.number().int().min(0).optional(),
    className: z.string().min(1).max(128),
    score: z.number().finite().optional(),
    scoreWithoutHsf: z.number().finite().optional(),
    thresholds: z
      .strictObject({ image: unit, pixel: unit, clear: unit, minRegionAreaPct: z.number().min(0).max(100) })
      .optional(),
    regions: z.array(regionSchema),
    regionCount: z.number().int().min(0),
    eventId: ulid.optional(),
    model: modelSchema,
    latencyMs: latencySchema.extend({ trigger: z.number().min(0).optional() }),
    snapshots: z.array(snapshotRefSchema),
  })
  .superRefine((doc, ctx) => {
    if (doc.verdict === 'error') {
      if (doc.reason === undefined)
        ctx.addIssue({ code: 'custom', path: ['reason'], message: 'required when verdict is "error"' });
    } else {
      if (doc.reason !== undefined)
        ctx.addIssue({ code: 'custom', path: ['reason'], message: 'only allowed when verdict is "error"' });
      for (const key of ['score', 'scoreWithoutHsf', 'thresholds', 'capturedAt', 'frameSeq'] as const)
        if (doc[key] === undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `required when verdict is "${doc.verdict}"` });
    }
  });

export type InspectionResult = z.infer<typeof inspectionResultSchema>;

/** Site, line and model identity stamped on every result. */
export interface ResultContext {
  site: string;
  line: string;
  model: ModelProvenance;
}

/** The trigger a result answers. */
export interface PartRef {
  cameraId: string;
  triggerId: string;
  partId?: string;
  /** Date.now() when the trigger arrived. */
  triggeredAtWall: number;
}

export function validateInspectionResult(doc: unknown): InspectionResult {
  return validateDocument(inspectionResultSchema, doc, 'inspection result');
}

/** The verdict on a decided frame of a part: ng when the frame's score reached the image threshold. */
export function resultFromDecision(
  context: ResultContext,
  part: PartRef,
  frame: {
    /** The result's id, when it was chosen before (snapshot files are named after it). */
    id?: string;
    d: DecideResult;
    capturedAtWall: number;
    /** The alarm transition this frame caused, if any. */
    eventId?: string;
    snapshots?: SnapshotRef[];
    timings?: StageTimings;
    decidedAtWall?: number;
  },
): InspectionResult {
  const { detection, thresholds: th } = frame.d;
  const decidedAtWall = frame.decidedAtWall ?? Date.now();
  return build(context, part, decidedAtWall, {
    ...(frame.id !== undefined && { id: frame.id }),
    verdict: detection.anomalous ? 'ng' : 'ok',
    capturedAt: iso(frame.capturedAtWall, 'capturedAtWall', 'inspection result'),
    frameSeq: detection.seq,
    className: detection.className,
    score: detection.score,
    scoreWithoutHsf: detection.scoreWithoutHsf,
    thresholds: { ...th },
    regions: copyRegions(detection.regions),
    regionCount: detection.regionsTotal ?? detection.regions.length,
    ...(frame.eventId !== undefined && { eventId: frame.eventId }),
    latencyMs: {
      ...latencies(frame.timings),
      trigger: Math.max(0, round3(decidedAtWall - part.triggeredAtWall)),
    },
    snapshots: (frame.snapshots ?? []).map((s) => ({ ...s })),
  });
}

/** A trigger that could not be inspected: verdict error, with the reason and what happened. */
export function errorResult(
  context: ResultContext,
  part: PartRef,
  e: { reason: ResultErrorReason; detail?: string; className: string; decidedAtWall?: number },
): InspectionResult {
  const decidedAtWall = e.decidedAtWall ?? Date.now();
  return build(context, part, decidedAtWall, {
    verdict: 'error',
    reason: e.reason,
    ...(e.detail && { detail: e.detail.slice(0, 1000) }),
    className: e.className,
    regions: [],
    regionCount: 0,
    latencyMs: { trigger: Math.max(0, round3(decidedAtWall - part.triggeredAtWall)) },
    snapshots: [],
  });
}

function build(
  context: ResultContext,
  part: PartRef,
  decidedAtWall: number,
  rest: Record<string, unknown>,
): InspectionResult {
  const doc: Record<string, unknown> = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: newEventId(decidedAtWall),
    type: 'inspection',
    site: context.site,
    line: context.line,
    cameraId: part.cameraId,
    triggerId: part.triggerId,
    ...(part.partId !== undefined && { partId: part.partId }),
    triggeredAt: iso(part.triggeredAtWall, 'triggeredAtWall', 'inspection result'),
    decidedAt: iso(decidedAtWall, 'decidedAtWall', 'inspection result'),
    model: structuredClone(context.model),
    ...rest,
  };
  return validateInspectionResult(doc);
}

function copyRegions(regions: Region[]): Region[] {
  return regions.map((r) => ({ ...r, centroid: { ...r.centroid } }));
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
