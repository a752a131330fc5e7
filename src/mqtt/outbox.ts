// The durable outbox: THE place where an anomaly event becomes durable. persistEvent() resolves only
// after the row is committed to SQLite (WAL, synchronous=FULL, i.e. fsync of the WAL on every
// commit); from then on the event survives a broker outage, a process crash and a power cut, and
// leaves the store only when the broker acknowledged it (markDelivered, after PUBACK) or when the
// bounded store overflows, which is counted, logged and published, never silent.
//
// Concurrent persistEvent() calls are group-committed: every call made in the same event-loop turn
// goes into one transaction (one fsync), so throughput grows with load while a lone event waits
// for a single commit. Deletes after PUBACK are batched the same way. A crash between PUBACK and
// the delete commit republishes the event after restart: a duplicate, which QoS 1 allows and the
// event id lets subscribers drop. Delete-only commits therefore run with synchronous=NORMAL (no
// fsync of their own) and wait up to DELETE_BATCH_MS for company: the next insert commit fsyncs
// the write-ahead log, and with it every earlier delete, since the WAL is append-only.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../util/log.js';

export type OverflowPolicy = 'drop-oldest' | 'reject-new';
export type OutboxLossKind = 'dropped' | 'rejected' | 'broker-rejected';
export type SyncMode = 'FULL' | 'NORMAL';

export interface OutboxOptions {
  /** SQLite file; ':memory:' only for tests that do not need durability. */
  path: string;
  maxEvents: number;
  overflow: OverflowPolicy;
  /** FULL (default) survives power loss; NORMAL survives a process crash only (see docs/mqtt.md). */
  synchronous?: SyncMode;
}

/** Which topic a stored document goes to: `<base>/<camera>/event` or `<base>/<camera>/result`. */
export type OutboxKind = 'event' | 'result';

export interface OutboxRecord {
  cameraId: string;
  eventId: string;
  /** The serialised document (JSON). */
  payload: Buffer;
  /** Default 'event'. Events and results share one store, hence one order. */
  kind?: OutboxKind;
}

export interface StoredEvent extends OutboxRecord {
  /** Position in the store: publication order (per camera, and overall). */
  seq: number;
  acceptedAtMs: number;
  kind: OutboxKind;
}

export interface OutboxCounters {
  /** Events made durable, since the store was created. */
  accepted: number;
  /** Events removed after the broker's PUBACK. */
  delivered: number;
  /** Losses under drop-oldest: durable events pushed out by newer ones. */
  dropped: number;
  /** Losses under reject-new: events refused because the store was full. */
  rejected: number;
  /** Events the broker refused with an error PUBACK (e.g. MQTT 5 "not authorized"). */
  brokerRejected: number;
  /** Events on disk now, waiting for a PUBACK. */
  pending: number;
}

const COUNTER_KEYS = ['accepted', 'delivered', 'dropped', 'rejected', 'brokerRejected'] as const;
type PersistedCounter = (typeof COUNTER_KEYS)[number];

/** How long a PUBACK's delete may wait to share a commit with others. */
const DELETE_BATCH_MS = 20;

export class OutboxFullError extends Error {
  constructor(maxEvents: number) {
    super(
      `outbox full (${maxEvents} events waiting for the broker; mqtt.outbox.overflow = reject-new): event rejected`,
    );
    this.name = 'OutboxFullError';
  }
}

interface PendingPersist {
  record: OutboxRecord;
  acceptedAtMs: number;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export class DurableOutbox extends EventEmitter<{
  /** New rows are on disk. */
  persisted: [];
  /** Rows were lost: to the overflow policy, or refused by the broker. */
  loss: [{ kind: OutboxLossKind; count: number }];
}> {
  private db?: Database.Database;
  private stmts?: ReturnType<DurableOutbox['prepare']>;
  private readonly counters: Record<PersistedCounter, number> = {
    accepted: 0,
    delivered: 0,
    dropped: 0,
    rejected: 0,
    brokerRejected: 0,
  };
  private pendingCount = 0;
  private toPersist: PendingPersist[] = [];
  private toDelete: number[] = [];
  private brokerRejectedDelta = 0;
  private flushScheduled = false;
  private deleteTimer?: NodeJS.Timeout;
  private currentSync?: SyncMode;

  constructor(
    private readonly opts: OutboxOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  open(): void {
    if (this.db) return;
    let db: Database.Database;
    try {
      if (this.opts.path !== ':memory:') mkdirSync(dirname(this.opts.path), { recursive: true });
      db = new Database(this.opts.path);
    } catch (err) {
      throw new Error(`mqtt.outbox.path: cannot open "${this.opts.path}": ${(err as Error).message}`);
    }
    db.pragma('journal_mode = WAL');
    this.setSync(db, this.opts.synchronous ?? 'FULL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        camera_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        payload BLOB NOT NULL,
        accepted_at_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    // stores made before inspection results existed hold events only
    const columns = db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'kind'))
      db.exec("ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'event'");
    this.db = db;
    this.stmts = this.prepare(db);
    for (const row of db.prepare('SELECT name, value FROM counters').all() as {
      name: string;
      value: number;
    }[]) {
      if ((COUNTER_KEYS as readonly string[]).includes(row.name))
        this.counters[row.name as PersistedCounter] = row.value;
    }
    this.pendingCount = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    if (this.pendingCount > 0) {
      this.logger.info(
        { pending: this.pendingCount, path: this.opts.path },
        'outbox: events from before the restart will be replayed',
      );
    }
  }

  /**
   * Makes an event durable. Resolves with its sequence number once it is committed to disk: only
   * then may the caller count the event as accepted. Rejects with OutboxFullError under reject-new.
   */
  persistEvent(record: OutboxRecord): Promise<number> {
    if (!this.db) return Promise.reject(new Error('outbox is not open'));
    return new Promise((resolve, reject) => {
      this.toPersist.push({ record, acceptedAtMs: Date.now(), resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Rows after `afterSeq`, in publication order. */
  readAfter(afterSeq: number, limit: number): StoredEvent[] {
    if (!this.stmts || limit <= 0) return [];
    const rows = this.stmts.readAfter.all(afterSeq, limit) as {
      seq: number;
      camera_id: string;
      event_id: string;
      payload: Buffer;
      accepted_at_ms: number;
      kind: OutboxKind;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      cameraId: r.camera_id,
      eventId: r.event_id,
      payload: r.payload,
      acceptedAtMs: r.accepted_at_ms,
      kind: r.kind,
    }));
  }

  /** The broker acknowledged this row (PUBACK): remove it (batched with other deletes). */
  markDelivered(seq: number): void {
    this.toDelete.push(seq);
    if (this.toDelete.length >= 1000) this.scheduleFlush();
    else if (!this.deleteTimer && !this.flushScheduled) {
      this.deleteTimer = setTimeout(() => this.flush(), DELETE_BATCH_MS);
    }
  }

  /** The broker refused this row with an error PUBACK: remove it and count it as a loss. */
  markBrokerRejected(seq: number): void {
    this.brokerRejectedDelta++;
    this.markDelivered(seq);
    this.emit('loss', { kind: 'broker-rejected', count: 1 });
  }

  getCounters(): OutboxCounters {
    return { ...this.counters, pending: this.pendingCount + this.toPersist.length - this.toDelete.length };
  }

  /** Commits whatever is queued now (also called by close()). */
  flush(): void {
    this.flushScheduled = false;
    clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    const db = this.db;
    const stmts = this.stmts;
    if (!db || !stmts) return;
    const persist = this.toPersist;
    const deletes = this.toDelete;
    if (persist.length === 0 && deletes.length === 0) return;
    this.toPersist = [];
    this.toDelete = [];
    const brokerRejected = this.brokerRejectedDelta;
    this.brokerRejectedDelta = 0;
    const { maxEvents, overflow } = this.opts;
    const seqs: (number | Error)[] = [];
    let dropped = 0;
    let rejected = 0;
    let deleted = 0;
    // Inserts: the configured policy (FULL: fsync before anyone is told "accepted").
    // Deletes alone: NORMAL, since losing one only republishes an acknowledged event.
    this.setSync(db, persist.length > 0 ? (this.opts.synchronous ?? 'FULL') : 'NORMAL');
    try {
      db.transaction(() => {
        for (const seq of deletes) deleted += stmts.delete.run(seq).changes;
        let count = this.pendingCount - deleted;
        for (const p of persist) {
          if (count >= maxEvents && overflow === 'reject-new') {
            rejected++;
            seqs.push(new OutboxFullError(maxEvents));
            continue;
          }
          const info = stmts.insert.run(
            p.record.cameraId,
            p.record.eventId,
            p.record.payload,
            p.acceptedAtMs,
            p.record.kind ?? 'event',
          );
          seqs.push(Number(info.lastInsertRowid));
          count++;
        }
        if (count > maxEvents) {
          // drop-oldest: the newest events are the most relevant to an operator
          dropped = stmts.dropOldest.run(count - maxEvents).changes;
          count -= dropped;
        }
        const accepted = persist.length - rejected;
        this.bump(stmts, 'accepted', accepted);
        this.bump(stmts, 'delivered', Math.max(0, deleted - brokerRejected));
        this.bump(stmts, 'brokerRejected', brokerRejected);
        this.bump(stmts, 'dropped', dropped);
        this.bump(stmts, 'rejected', rejected);
        this.pendingCount = count;
      })();
    } catch (err) {
      // Nothing of this batch is on disk: every caller learns it, the deletes are retried later.
      const e = new Error(`outbox: cannot write to ${this.opts.path}: ${(err as Error).message}`);
      this.logger.error({ err: e.message }, 'outbox write failed');
      for (const p of persist) p.reject(e);
      this.toDelete.push(...deletes);
      this.brokerRejectedDelta += brokerRejected;
      return;
    }
    persist.forEach((p, i) => {
      const r = seqs[i];
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
    if (dropped > 0) {
      this.logger.error(
        { dropped, totalDropped: this.counters.dropped, maxEvents },
        'outbox full: oldest undelivered events dropped',
      );
      this.emit('loss', { kind: 'dropped', count: dropped });
    }
    if (rejected > 0) {
      this.logger.error(
        { rejected, totalRejected: this.counters.rejected, maxEvents },
        'outbox full: new events rejected',
      );
      this.emit('loss', { kind: 'rejected', count: rejected });
    }
    if (persist.length > rejected) this.emit('persisted');
  }

  close(): void {
    this.flush();
    this.db?.close();
    this.currentSync = undefined;
    this.db = undefined;
    this.stmts = undefined;
  }

  private bump(stmts: NonNullable<DurableOutbox['stmts']>, name: PersistedCounter, delta: number): void {
    if (delta === 0) return;
    this.counters[name] += delta;
    stmts.setCounter.run(name, this.counters[name]);
  }

  private setSync(db: Database.Database, mode: SyncMode): void {
    if (mode === this.currentSync) return;
    db.pragma(`synchronous = ${mode}`);
    this.currentSync = mode;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private prepare(db: Database.Database) {
    return {
      insert: db.prepare(
        'INSERT INTO outbox (camera_id, event_id, payload, accepted_at_ms, kind) VALUES (?, ?, ?, ?, ?)',
      ),
      delete: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      dropOldest: db.prepare('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)'),
      readAfter: db.prepare(
        'SELECT seq, camera_id, event_id, payload, accepted_at_ms, kind FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      setCounter: db.prepare(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
      ),
    };
  }
}

/** What an outbox file on disk holds, read without changing it (`adaclip-edge doctor`). */
export interface OutboxFileSummary {
  /** Documents waiting for the broker's PUBACK: the next start publishes them first. */
  pending: number;
  /** Losses recorded since the store was created (dropped, rejected, brokerRejected). */
  lost: number;
  /** A write-ahead log without its -shm index lies beside it: its documents are not counted. */
  walNotRead?: boolean;
}

/**
 * Reads the outbox file `path` without writing anything beside it, and counts its documents; throws
 * with SQLite's reason when the file is not one the service could open ("file is not a database").
 * SQLite would create the -wal and -shm files of a WAL database even for a read-only connection,
 * and a doctor run as root would leave them owned by root, so the service's own user could no
 * longer open its outbox. So: with both present (the service is running, or was killed) they are
 * used as they are; otherwise the file, complete since the last clean close, is read into memory
 * and opened there (its header marked as a rollback-journal database: memory databases have no WAL).
 */
export function inspectOutboxFile(path: string): OutboxFileSummary {
  const inPlace = existsSync(`${path}-wal`) && existsSync(`${path}-shm`);
  let db: Database.Database;
  if (inPlace) db = new Database(path, { readonly: true, fileMustExist: true });
  else {
    const image = readFileSync(path);
    if (image.length === 0) return { pending: 0, lost: 0 }; // SQLite takes an empty file as an empty database
    // bytes 18 and 19: the file format's write and read versions, 2 for WAL, 1 for a rollback journal
    if (image.length >= 100 && image[18] === 2 && image[19] === 2) image[18] = image[19] = 1;
    db = new Database(image, { readonly: true });
  }
  try {
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    // an empty database (no table yet) is one the service would set up at its start
    const pending = tables.has('outbox')
      ? (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n
      : 0;
    const lost = tables.has('counters')
      ? (
          db
            .prepare(
              "SELECT coalesce(sum(value), 0) AS n FROM counters WHERE name IN ('dropped', 'rejected', 'brokerRejected')",
            )
            .get() as { n: number }
        ).n
      : 0;
    return { pending, lost, ...(!inPlace && existsSync(`${path}-wal`) ? { walNotRead: true } : {}) };
  } finally {
    db.close();
  }
}
