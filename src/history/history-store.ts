// The local inspection history: every durable inspection result and anomaly event, and what
// operators did with them (acknowledgements, reviews, suspensions), in one SQLite file
// (better-sqlite3, WAL). It is what the dashboard and `review export` read; delivery is not its job:
// a document is durable in the MQTT outbox before it is written here, and a history write that
// fails is logged and counted, never passed on to the pipeline.
//
// Retention (history.maxAgeH, history.maxRows) deletes rows of results, events and
// acknowledgements only: never a file, so it cannot touch one the service did not write. A file at
// history.path that is not a history database (another program's) is refused, never changed.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AnomalyEvent } from '../events/anomaly-event.js';
import type { InspectionResult } from '../events/inspection-result.js';
import { HISTORY_SCHEMA, HISTORY_APPLICATION_ID } from './tables.js';
import type {
  Acknowledgement,
  EventQuery,
  EventRow,
  Page,
  ResultQuery,
  ResultRow,
  Review,
  ReviewTarget,
  StoredSuspension,
} from './types.js';

export interface HistoryOptions {
  /** SQLite file; ':memory:' for tests. */
  path: string;
  maxAgeH: number;
  maxRows: number;
}

export class HistoryError extends Error {
  override name = 'HistoryError';
}

type Row = Record<string, unknown>;

export class HistoryStore {
  private db?: Database.Database;
  private stmts?: ReturnType<HistoryStore['prepare']>;

  constructor(private readonly opts: HistoryOptions) {}

  /** Opens (creating) the database; throws a HistoryError naming history.path when it cannot. */
  open(): void {
    if (this.db) return;
    const path = this.opts.path;
    let db: Database.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
    } catch (err) {
      throw new HistoryError(`history.path: cannot open "${path}": ${(err as Error).message}`);
    }
    try {
      const appId = db.pragma('application_id', { simple: true }) as number;
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
        n: number;
      };
      if (appId !== HISTORY_APPLICATION_ID && (appId !== 0 || tables.n > 0))
        throw new HistoryError(
          `history.path: "${path}" is not an adaclip-edge history database (it holds other data); ` +
            'choose another history.path, it is never overwritten',
        );
      db.pragma('journal_mode = WAL');
      // the outbox is what makes documents durable; the history may lose its last commits on a power cut
      db.pragma('synchronous = NORMAL');
      db.exec(HISTORY_SCHEMA);
      db.pragma(`application_id = ${HISTORY_APPLICATION_ID}`);
    } catch (err) {
      db.close();
      if (err instanceof HistoryError) throw err;
      throw new HistoryError(`history.path: cannot use "${path}": ${(err as Error).message}`);
    }
    this.db = db;
    this.stmts = this.prepare(db);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.stmts = undefined;
  }

  /** Stores a durable result; a replayed one (same id) is ignored. */
  addResult(r: InspectionResult): void {
    this.s().insertResult.run(
      r.id,
      r.cameraId,
      r.partId ?? null,
      r.triggerId,
      r.verdict,
      r.reason ?? null,
      r.score ?? null,
      Date.parse(r.triggeredAt),
      JSON.stringify(r),
    );
  }

  /** Stores a durable event; a replayed one (same id) is ignored. */
  addEvent(e: AnomalyEvent): void {
    this.s().insertEvent.run(
      e.id,
      e.cameraId,
      e.severity,
      e.transition,
      e.alarmId,
      Date.parse(e.capturedAt),
      JSON.stringify(e),
    );
  }

  event(id: string): EventRow | undefined {
    const row = this.s().eventById.get(id) as Row | undefined;
    return row ? this.eventRow(row) : undefined;
  }

  result(id: string): ResultRow | undefined {
    const row = this.s().resultById.get(id) as Row | undefined;
    return row ? this.resultRow(row) : undefined;
  }

  /** Newest first; `next` is the cursor of the following page. */
  events(q: EventQuery): Page<EventRow> {
    const f = filters(q, [
      ['camera_id', q.camera],
      ['severity', q.severity],
    ]);
    return this.page('events', f, q.limit, (r) => this.eventRow(r));
  }

  results(q: ResultQuery): Page<ResultRow> {
    return this.page('results', this.resultFilters(q), q.limit, (r) => this.resultRow(r));
  }

  /** One page, newest first: a row more than asked for says whether there is a next page. */
  private page<T extends { id: string }>(
    table: 'events' | 'results',
    f: { where: string; args: (string | number)[] },
    limit: number,
    row: (r: Row) => T,
  ): Page<T> {
    const rows = this.db!.prepare(`SELECT * FROM ${table} ${f.where} ORDER BY id DESC LIMIT ?`).all(
      ...f.args,
      limit + 1,
    ) as Row[];
    return page(rows.map(row), limit);
  }

  /** Every matching result, newest first, one at a time (CSV export of large ranges). */
  *iterateResults(q: Omit<ResultQuery, 'cursor'> & { cursor?: string }): Generator<ResultRow> {
    const { where, args } = this.resultFilters(q);
    const stmt = this.db!.prepare(`SELECT * FROM results ${where} ORDER BY id DESC LIMIT ?`);
    for (const row of stmt.iterate(...args, q.limit) as IterableIterator<Row>) yield this.resultRow(row);
  }

  acknowledgement(alarmId: string): Acknowledgement | undefined {
    const row = this.s().ackByAlarm.get(alarmId) as Row | undefined;
    return row ? ackOf(row) : undefined;
  }

  /** Stores an acknowledgement; false when the alarm was acknowledged before (nothing changed). */
  addAcknowledgement(a: Acknowledgement & { cameraId: string }): boolean {
    const info = this.s().insertAck.run(
      a.alarmId,
      a.eventId,
      a.cameraId,
      a.by,
      Date.parse(a.at),
      a.comment ?? null,
    );
    return info.changes === 1;
  }

  review(kind: ReviewTarget, id: string): Review | undefined {
    const row = this.s().reviewOf.get(kind, id) as Row | undefined;
    return row ? reviewOf(row) : undefined;
  }

  /** Stores (or replaces: a person may change their mind) the review of an event or result. */
  setReview(r: Review & { cameraId: string; image?: string; target: string }): void {
    this.s().upsertReview.run(
      r.kind,
      r.targetId,
      r.cameraId,
      r.label,
      r.by,
      Date.parse(r.at),
      r.comment ?? null,
      r.image ?? null,
      r.target,
    );
  }

  /** Every review with the document it judged (as it was when reviewed), oldest first. */
  reviews(): (Review & { cameraId: string; image?: string; target: unknown })[] {
    return (this.s().allReviews.all() as Row[]).map((row) => ({
      ...reviewOf(row),
      cameraId: String(row.camera_id),
      ...(row.image != null && { image: String(row.image) }),
      target: JSON.parse(String(row.target)),
    }));
  }

  suspensions(): StoredSuspension[] {
    return (this.s().allSuspensions.all() as Row[]).map((row) => ({
      cameraId: String(row.camera_id),
      since: new Date(Number(row.since_ms)).toISOString(),
      ...(row.until_ms != null && { until: new Date(Number(row.until_ms)).toISOString() }),
      by: String(row.by),
      door: String(row.door),
      ...(row.comment != null && { comment: String(row.comment) }),
    }));
  }

  setSuspension(s: StoredSuspension): void {
    this.s().upsertSuspension.run(
      s.cameraId,
      Date.parse(s.since),
      s.until === undefined ? null : Date.parse(s.until),
      s.by,
      s.door,
      s.comment ?? null,
    );
  }

  clearSuspension(cameraId: string): void {
    this.s().deleteSuspension.run(cameraId);
  }

  /** Rows per table (metrics). */
  counts(): { results: number; events: number; acknowledgements: number; reviews: number } {
    const n = (table: string) =>
      (this.db!.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      results: n('results'),
      events: n('events'),
      acknowledgements: n('acknowledgements'),
      reviews: n('reviews'),
    };
  }

  /**
   * Deletes results, events and acknowledgements older than maxAgeH, then the oldest results and
   * events beyond maxRows each. Reviews stay (they are the labelled data). Returns rows deleted.
   */
  prune(nowMs: number = Date.now()): { results: number; events: number; acknowledgements: number } {
    const db = this.db!;
    const cutoff = nowMs - this.opts.maxAgeH * 3_600_000;
    const out = { results: 0, events: 0, acknowledgements: 0 };
    db.transaction(() => {
      for (const table of ['results', 'events'] as const) {
        out[table] += db.prepare(`DELETE FROM ${table} WHERE at_ms < ?`).run(cutoff).changes;
        const n = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        if (n > this.opts.maxRows)
          out[table] += db
            .prepare(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} ORDER BY id LIMIT ?)`)
            .run(n - this.opts.maxRows).changes;
      }
      out.acknowledgements = db.prepare('DELETE FROM acknowledgements WHERE at_ms < ?').run(cutoff).changes;
    })();
    return out;
  }

  private resultFilters(q: Omit<ResultQuery, 'cursor' | 'limit'> & { cursor?: string }) {
    return filters(q, [
      ['camera_id', q.camera],
      ['verdict', q.verdict],
      ['part_id', q.partId],
    ]);
  }

  private eventRow(row: Row): EventRow {
    const doc = JSON.parse(String(row.doc)) as AnomalyEvent;
    const review = this.review('event', doc.id);
    const ack = this.acknowledgement(doc.alarmId);
    return { ...doc, ...(review && { review: stripTarget(review) }), ...(ack && { acknowledged: ack }) };
  }

  private resultRow(row: Row): ResultRow {
    const doc = JSON.parse(String(row.doc)) as InspectionResult;
    const review = this.review('result', doc.id);
    return { ...doc, ...(review && { review: stripTarget(review) }) };
  }

  private s(): NonNullable<HistoryStore['stmts']> {
    if (!this.stmts) throw new HistoryError('history is not open');
    return this.stmts;
  }

  private prepare(db: Database.Database) {
    return {
      insertResult: db.prepare(
        `INSERT OR IGNORE INTO results (id, camera_id, part_id, trigger_id, verdict, reason, score, at_ms, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertEvent: db.prepare(
        `INSERT OR IGNORE INTO events (id, camera_id, severity, transition, alarm_id, at_ms, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      eventById: db.prepare('SELECT * FROM events WHERE id = ?'),
      resultById: db.prepare('SELECT * FROM results WHERE id = ?'),
      ackByAlarm: db.prepare('SELECT * FROM acknowledgements WHERE alarm_id = ?'),
      insertAck: db.prepare(
        `INSERT OR IGNORE INTO acknowledgements (alarm_id, event_id, camera_id, by, at_ms, comment)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      reviewOf: db.prepare('SELECT * FROM reviews WHERE target_kind = ? AND target_id = ?'),
      upsertReview: db.prepare(
        `INSERT INTO reviews (target_kind, target_id, camera_id, label, by, at_ms, comment, image, target)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(target_kind, target_id) DO UPDATE SET label = excluded.label, by = excluded.by,
           at_ms = excluded.at_ms, comment = excluded.comment, image = COALESCE(excluded.image, image)`,
      ),
      allReviews: db.prepare('SELECT * FROM reviews ORDER BY at_ms, target_id'),
      allSuspensions: db.prepare('SELECT * FROM suspensions ORDER BY camera_id'),
      upsertSuspension: db.prepare(
        `INSERT INTO suspensions (camera_id, since_ms, until_ms, by, door, comment) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(camera_id) DO UPDATE SET since_ms = excluded.since_ms, until_ms = excluded.until_ms,
           by = excluded.by, door = excluded.door, comment = excluded.comment`,
      ),
      deleteSuspension: db.prepare('DELETE FROM suspensions WHERE camera_id = ?'),
    };
  }
}

/** WHERE clause for equality filters, a time range on at_ms and the id cursor (newest first). */
function filters(
  q: { since?: number; until?: number; cursor?: string },
  eq: [string, string | undefined][],
): { where: string; args: (string | number)[] } {
  const parts: string[] = [];
  const args: (string | number)[] = [];
  for (const [col, v] of eq) {
    if (v === undefined) continue;
    parts.push(`${col} = ?`);
    args.push(v);
  }
  if (q.since !== undefined) {
    parts.push('at_ms >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    parts.push('at_ms < ?');
    args.push(q.until);
  }
  if (q.cursor !== undefined) {
    parts.push('id < ?');
    args.push(q.cursor);
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: items[items.length - 1].id };
}

function ackOf(row: Row): Acknowledgement {
  return {
    alarmId: String(row.alarm_id),
    eventId: String(row.event_id),
    by: String(row.by),
    at: new Date(Number(row.at_ms)).toISOString(),
    ...(row.comment != null && { comment: String(row.comment) }),
  };
}

function reviewOf(row: Row): Review {
  return {
    kind: row.target_kind as ReviewTarget,
    targetId: String(row.target_id),
    label: row.label as Review['label'],
    by: String(row.by),
    at: new Date(Number(row.at_ms)).toISOString(),
    ...(row.comment != null && { comment: String(row.comment) }),
  };
}

/** A row's review as the API shows it: who, when, what (the row itself says which target). */
function stripTarget(r: Review): EventRow['review'] {
  return { label: r.label, by: r.by, at: r.at, ...(r.comment !== undefined && { comment: r.comment }) };
}
