// Inspection results as CSV (RFC 4180: comma, CRLF, fields with a comma, quote or line break
// quoted). Written by hand: the format is ten lines of rules, and a CSV library would add a
// dependency for what `csvField` does. A text cell that a spreadsheet would run as a formula (it
// starts with = + - @ or a tab) gets a leading apostrophe: part ids come from PLCs and MQTT
// messages, which an operator's spreadsheet must not execute.
import type { ResultRow } from './types.js';

export const RESULT_CSV_COLUMNS = [
  'id',
  'triggeredAt',
  'capturedAt',
  'decidedAt',
  'cameraId',
  'partId',
  'triggerId',
  'verdict',
  'reason',
  'detail',
  'score',
  'thresholdImage',
  'regionCount',
  'className',
  'eventId',
  'latencyTotalMs',
  'latencyTriggerMs',
  'review',
  'reviewedBy',
] as const;

export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function resultCsvHeader(): string {
  return RESULT_CSV_COLUMNS.join(',') + '\r\n';
}

export function resultCsvLine(r: ResultRow): string {
  const cells: (string | number | undefined)[] = [
    r.id,
    r.triggeredAt,
    r.capturedAt,
    r.decidedAt,
    r.cameraId,
    r.partId,
    r.triggerId,
    r.verdict,
    r.reason,
    r.detail,
    r.score,
    r.thresholds?.image,
    r.regionCount,
    r.className,
    r.eventId,
    r.latencyMs.total,
    r.latencyMs.trigger,
    r.review?.label,
    r.review?.by,
  ];
  return cells.map(csvField).join(',') + '\r\n';
}

/** Header and lines, for a stream of rows of any length. */
export function* resultCsv(rows: Iterable<ResultRow>): Generator<string> {
  yield resultCsvHeader();
  for (const r of rows) yield resultCsvLine(r);
}
