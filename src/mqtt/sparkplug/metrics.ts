// The metrics this edge node publishes: node metrics in NBIRTH, one device (DBIRTH/DDATA) per camera.
// Every metric has a fixed name, datatype and an alias unique within the edge node; births carry
// name + alias, DDATA carries the alias only. docs/sparkplug.md lists them.
import type { Region } from '../../geometry/region.js';

export type SpType = 'Boolean' | 'String' | 'Float' | 'Double' | 'Int32' | 'UInt64';

export interface CameraMetrics {
  score: number;
  scoreWithoutHsf: number;
  anomalous: boolean;
  alarmActive: boolean;
  severity: string;
  defectCount: number;
  regionSummary: string;
  largestRegionPct: number;
  lastEventId: string;
  frames: number;
  fps: number;
  latencyMs: number;
  cameraState: string;
  className: string;
  thresholdImage: number;
  thresholdPixel: number;
  thresholdClear: number;
  minRegionAreaPct: number;
  resultId: string;
  resultPartId: string;
  resultTriggerId: string;
  resultVerdict: string;
  resultReason: string;
  resultScore: number;
  results: number;
  alarmAcknowledged: boolean;
  alarmAcknowledgedBy: string;
  suspended: boolean;
  suspendDurationS: number;
  suspendedUntil: string;
}

export type CameraMetricKey = keyof CameraMetrics;

export interface MetricDef<K extends string = string> {
  key: K;
  name: string;
  type: SpType;
  /** Accepted in DCMD. */
  writable?: boolean;
}

export const CAMERA_METRICS: readonly MetricDef<CameraMetricKey>[] = [
  { key: 'score', name: 'Inspection/Anomaly Score', type: 'Float' },
  { key: 'scoreWithoutHsf', name: 'Inspection/Score Without HSF', type: 'Float' },
  { key: 'anomalous', name: 'Inspection/Anomalous', type: 'Boolean' },
  { key: 'alarmActive', name: 'Inspection/Alarm Active', type: 'Boolean' },
  { key: 'severity', name: 'Inspection/Severity', type: 'String' },
  { key: 'defectCount', name: 'Inspection/Defect Count', type: 'Int32' },
  { key: 'regionSummary', name: 'Inspection/Region Summary', type: 'String' },
  { key: 'largestRegionPct', name: 'Inspection/Largest Region Area Pct', type: 'Float' },
  { key: 'lastEventId', name: 'Inspection/Last Event Id', type: 'String' },
  { key: 'frames', name: 'Inspection/Frames', type: 'UInt64' },
  { key: 'fps', name: 'Performance/FPS', type: 'Float' },
  { key: 'latencyMs', name: 'Performance/Latency ms', type: 'Float' },
  { key: 'cameraState', name: 'Camera/State', type: 'String' },
  { key: 'className', name: 'Config/Class Name', type: 'String', writable: true },
  // Double: thresholds written by an operator must come back exactly as written
  { key: 'thresholdImage', name: 'Config/Thresholds/Image', type: 'Double', writable: true },
  { key: 'thresholdPixel', name: 'Config/Thresholds/Pixel', type: 'Double', writable: true },
  { key: 'thresholdClear', name: 'Config/Thresholds/Clear', type: 'Double', writable: true },
  { key: 'minRegionAreaPct', name: 'Config/Thresholds/Min Region Area Pct', type: 'Double', writable: true },
  // appended, so that the aliases above stay as they were
  { key: 'resultId', name: 'Inspection/Result/Id', type: 'String' },
  { key: 'resultPartId', name: 'Inspection/Result/Part Id', type: 'String' },
  { key: 'resultTriggerId', name: 'Inspection/Result/Trigger Id', type: 'String' },
  { key: 'resultVerdict', name: 'Inspection/Result/Verdict', type: 'String' },
  { key: 'resultReason', name: 'Inspection/Result/Reason', type: 'String' },
  { key: 'resultScore', name: 'Inspection/Result/Score', type: 'Float' },
  { key: 'results', name: 'Inspection/Results', type: 'UInt64' },
  { key: 'alarmAcknowledged', name: 'Alarm/Acknowledged', type: 'Boolean' },
  { key: 'alarmAcknowledgedBy', name: 'Alarm/Acknowledged By', type: 'String' },
  { key: 'suspended', name: 'Control/Suspended', type: 'Boolean', writable: true },
  { key: 'suspendDurationS', name: 'Control/Suspend Duration s', type: 'Double', writable: true },
  { key: 'suspendedUntil', name: 'Control/Suspended Until', type: 'String' },
];

export const NODE_METRIC = {
  bdSeq: { name: 'bdSeq', type: 'UInt64' as const },
  rebirth: { name: 'Node Control/Rebirth', type: 'Boolean' as const, alias: 1 },
  cameras: { name: 'Properties/Cameras', type: 'Int32' as const, alias: 2 },
  version: { name: 'Properties/Software Version', type: 'String' as const, alias: 3 },
  modelSha256: { name: 'Properties/Model Sha256', type: 'String' as const, alias: 4 },
  modelVersion: { name: 'Properties/Model Version', type: 'String' as const, alias: 5 },
};

/** Device metric aliases: 1000 * (camera index + 1) + metric index, unique within the edge node. */
export function cameraAlias(cameraIndex: number, metricIndex: number): number {
  return 1000 * (cameraIndex + 1) + metricIndex;
}

export function defaultCameraMetrics(className: string): CameraMetrics {
  return {
    score: 0,
    scoreWithoutHsf: 0,
    anomalous: false,
    alarmActive: false,
    severity: 'info',
    defectCount: 0,
    regionSummary: '',
    largestRegionPct: 0,
    lastEventId: '',
    frames: 0,
    fps: 0,
    latencyMs: 0,
    cameraState: 'starting',
    className,
    thresholdImage: 0.5,
    thresholdPixel: 0.5,
    thresholdClear: 0.5,
    minRegionAreaPct: 0,
    resultId: '',
    resultPartId: '',
    resultTriggerId: '',
    resultVerdict: '',
    resultReason: '',
    resultScore: 0,
    results: 0,
    alarmAcknowledged: false,
    alarmAcknowledgedBy: '',
    suspended: false,
    suspendDurationS: 0,
    suspendedUntil: '',
  };
}

/** A short human-readable summary for HMIs: count and the region with the highest score. */
export function regionSummary(regions: Region[], total = regions.length): string {
  if (total === 0 || regions.length === 0) return '';
  const r = regions[0];
  return (
    `${total} region${total === 1 ? '' : 's'}; top ${r.width}x${r.height} at (${r.x},${r.y}) ` +
    `${r.areaPct.toFixed(2)}% max ${r.maxScore.toFixed(3)}`
  );
}

/** The per-frame metrics from a decision (plus thresholds), for SparkplugNode.update(). */
export function metricsFromDecision(d: {
  score: number;
  scoreWithoutHsf: number;
  anomalous: boolean;
  active: boolean;
  severity: string;
  regions: Region[];
  regionsTotal?: number;
  className: string;
  thresholds?: { image: number; pixel: number; clear: number; minRegionAreaPct: number };
  eventId?: string;
}): Partial<CameraMetrics> {
  const total = d.regionsTotal ?? d.regions.length;
  const m: Partial<CameraMetrics> = {
    score: d.score,
    scoreWithoutHsf: d.scoreWithoutHsf,
    anomalous: d.anomalous,
    alarmActive: d.active,
    severity: d.severity,
    defectCount: total,
    regionSummary: regionSummary(d.regions, total),
    largestRegionPct: d.regions.reduce((a, r) => Math.max(a, r.areaPct), 0),
    className: d.className,
  };
  if (d.thresholds) Object.assign(m, thresholdMetrics(d.thresholds));
  if (d.eventId) m.lastEventId = d.eventId;
  return m;
}

export function thresholdMetrics(t: {
  image: number;
  pixel: number;
  clear: number;
  minRegionAreaPct: number;
}): Partial<CameraMetrics> {
  return {
    thresholdImage: t.image,
    thresholdPixel: t.pixel,
    thresholdClear: t.clear,
    minRegionAreaPct: t.minRegionAreaPct,
  };
}
