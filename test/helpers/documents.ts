// Valid anomaly events and inspection results for tests of what stores and serves them (history,
// operator actions, the HTTP API), built with the real builders so they pass the real schemas.
import { buildEvent, type AnomalyEvent } from '../../src/events/anomaly-event.js';
import {
  errorResult,
  RESULT_SCHEMA_VERSION,
  type InspectionResult,
  type ResultContext,
} from '../../src/events/inspection-result.js';
import { validateInspectionResult } from '../../src/events/inspection-result.js';
import { newEventId } from '../../src/events/ids.js';

export const CONTEXT: ResultContext = {
  site: 'plant1',
  line: 'lineA',
  model: {
    bundleSha256: 'ab'.repeat(32),
    version: 'unversioned',
    kind: 'untrained-test',
    untrained: true,
    architecture: 'tiny',
    imageSize: 224,
    hsf: true,
    checkpoints: {},
  },
};

const REGION = {
  x: 10,
  y: 20,
  width: 30,
  height: 40,
  areaPx: 900,
  areaPct: 0.12,
  maxScore: 0.9,
  meanScore: 0.7,
  centroid: { x: 25, y: 40 },
};

/** A raise (or clear, with alarmId) event of `cameraId` captured at `atMs`. */
export function anomalyEvent(
  cameraId: string,
  atMs: number,
  o: {
    transition?: 'raise' | 'clear';
    alarmId?: string;
    severity?: 'info' | 'warning' | 'critical';
    score?: number;
    snapshots?: AnomalyEvent['snapshots'];
  } = {},
): AnomalyEvent {
  const transition = o.transition ?? 'raise';
  return buildEvent({
    transition,
    alarmId: o.alarmId,
    active: transition === 'raise',
    site: CONTEXT.site,
    line: CONTEXT.line,
    cameraId,
    frameSeq: 1,
    capturedAtWall: atMs,
    decidedAtWall: atMs + 5,
    className: 'screw',
    score: o.score ?? 0.8,
    scoreWithoutHsf: 0.7,
    thresholds: { image: 0.5, pixel: 0.5, clear: 0.5, minRegionAreaPct: 0 },
    anomalous: transition === 'raise',
    severity: o.severity ?? 'warning',
    alarm: {
      raisedAtWall: atMs,
      peakScore: o.score ?? 0.8,
      frames: 1,
      ...(transition === 'clear' && { clearedAtWall: atMs }),
    },
    window: { k: 1, n: 1, hits: 1 },
    regions: [REGION],
    regionCount: 1,
    model: CONTEXT.model,
    snapshots: o.snapshots,
  });
}

/** An ok/ng result (by `score` against 0.5), or an error result with `reason`. */
export function inspectionResult(
  cameraId: string,
  atMs: number,
  o: {
    partId?: string;
    score?: number;
    reason?: 'suspended' | 'trigger-timeout';
    snapshots?: InspectionResult['snapshots'];
  } = {},
): InspectionResult {
  const part = { cameraId, triggerId: `t-${newEventId()}`, partId: o.partId, triggeredAtWall: atMs };
  if (o.reason)
    return errorResult(CONTEXT, part, {
      reason: o.reason,
      detail: 'test',
      className: 'screw',
      decidedAtWall: atMs + 5,
    });
  const score = o.score ?? 0.3;
  return validateInspectionResult({
    schemaVersion: RESULT_SCHEMA_VERSION,
    id: newEventId(atMs + 5),
    type: 'inspection',
    site: CONTEXT.site,
    line: CONTEXT.line,
    cameraId,
    triggerId: part.triggerId,
    ...(o.partId !== undefined && { partId: o.partId }),
    verdict: score >= 0.5 ? 'ng' : 'ok',
    triggeredAt: new Date(atMs).toISOString(),
    capturedAt: new Date(atMs + 1).toISOString(),
    decidedAt: new Date(atMs + 5).toISOString(),
    frameSeq: 1,
    className: 'screw',
    score,
    scoreWithoutHsf: score,
    thresholds: { image: 0.5, pixel: 0.5, clear: 0.5, minRegionAreaPct: 0 },
    regions: score >= 0.5 ? [REGION] : [],
    regionCount: score >= 0.5 ? 1 : 0,
    model: CONTEXT.model,
    latencyMs: { trigger: 5 },
    snapshots: o.snapshots ?? [],
  });
}
