// Alert grouping for the event list: a burst on one camera is one row. Events of a camera belong to
// the same group while each is at most gapMs (capture time) from the next one of that camera; a
// camera that flaps between raise and clear twenty times a minute is one group of forty events,
// with its worst severity, peak score and newest event. Groups are ordered by their newest event.
import type { EventRow } from './types.js';

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

export interface EventGroup {
  /** Id of the group's newest event (also its stable key). */
  id: string;
  cameraId: string;
  count: number;
  /** Capture times (ISO) of its oldest and newest events. */
  from: string;
  to: string;
  /** Epoch-ms bounds that select exactly this span: GET /api/events?camera=&since=&until= expands it. */
  since: number;
  until: number;
  maxSeverity: EventRow['severity'];
  peakScore: number;
  raises: number;
  /** How many of its alarms are acknowledged, how many of its events are reviewed. */
  acknowledged: number;
  reviewed: number;
  latest: EventRow;
  /** Newest first (at most maxIds). */
  eventIds: string[];
  /** Id of the group's oldest event (a page of groups continues after it). */
  oldestId: string;
}

/** Groups rows given newest first; `maxIds` bounds eventIds per group (count is exact). */
export function groupBursts(rows: readonly EventRow[], gapMs: number, maxIds = 100): EventGroup[] {
  const groups: EventGroup[] = [];
  const open = new Map<string, { g: EventGroup; oldestMs: number; alarms: Set<string> }>();
  for (const e of rows) {
    const at = Date.parse(e.capturedAt);
    let cur = open.get(e.cameraId);
    if (!cur || cur.oldestMs - at > gapMs) {
      const g: EventGroup = {
        id: e.id,
        cameraId: e.cameraId,
        count: 0,
        from: e.capturedAt,
        to: e.capturedAt,
        since: at,
        until: at + 1,
        maxSeverity: e.severity,
        peakScore: e.score,
        raises: 0,
        acknowledged: 0,
        reviewed: 0,
        latest: e,
        eventIds: [],
        oldestId: e.id,
      };
      cur = { g, oldestMs: at, alarms: new Set() };
      open.set(e.cameraId, cur);
      groups.push(g);
    }
    const g = cur.g;
    g.count++;
    g.from = e.capturedAt;
    g.since = Math.min(g.since, at);
    cur.oldestMs = Math.min(cur.oldestMs, at);
    if (SEVERITY_RANK[e.severity] > SEVERITY_RANK[g.maxSeverity]) g.maxSeverity = e.severity;
    g.peakScore = Math.max(g.peakScore, e.score, e.alarm.peakScore);
    if (e.transition === 'raise') g.raises++;
    if (e.acknowledged && !cur.alarms.has(e.alarmId)) {
      cur.alarms.add(e.alarmId);
      g.acknowledged++;
    }
    if (e.review) g.reviewed++;
    if (g.eventIds.length < maxIds) g.eventIds.push(e.id);
    g.oldestId = e.id;
  }
  return groups;
}
