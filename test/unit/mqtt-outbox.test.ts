// The durable outbox on a real SQLite file: durability across close/reopen, order, bounded store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DurableOutbox, OutboxFullError, type OutboxOptions } from '../../src/mqtt/outbox.js';

const logger = pino({ level: 'silent' });

function tempPath(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-test-'));
  return {
    path: join(dir, 'sub', 'outbox.sqlite'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const rec = (cameraId: string, n: number) => ({
  cameraId,
  eventId: `${cameraId}-${String(n).padStart(5, '0')}`,
  payload: Buffer.from(JSON.stringify({ id: `${cameraId}-${n}`, cameraId })),
});

function open(opts: Partial<OutboxOptions> & { path: string }): DurableOutbox {
  const o = new DurableOutbox({ maxEvents: 1000, overflow: 'drop-oldest', ...opts }, logger);
  o.open();
  return o;
}

test('persisted events survive close and reopen, in order; delivered ones do not come back', async (t) => {
  const { path, cleanup } = tempPath();
  t.after(cleanup);
  const a = open({ path });
  const seqs = await Promise.all(
    [0, 1, 2, 3, 4].map((i) => a.persistEvent(rec(i % 2 ? 'cam-b' : 'cam-a', i))),
  );
  assert.deepEqual(
    [...seqs].sort((x, y) => x - y),
    seqs,
    'sequence follows call order',
  );
  a.markDelivered(seqs[0]);
  a.markDelivered(seqs[3]);
  a.close();

  const b = open({ path });
  const rows = b.readAfter(0, 100);
  assert.deepEqual(
    rows.map((r) => r.eventId),
    ['cam-b-00001', 'cam-a-00002', 'cam-a-00004'],
  );
  assert.deepEqual(JSON.parse(rows[0].payload.toString()), { id: 'cam-b-1', cameraId: 'cam-b' });
  const c = b.getCounters();
  assert.equal(c.accepted, 5);
  assert.equal(c.delivered, 2);
  assert.equal(c.pending, 3);
  assert.deepEqual(
    b.readAfter(rows[0].seq, 1).map((r) => r.eventId),
    ['cam-a-00002'],
  );
  b.close();
});

test('drop-oldest keeps the newest maxEvents and counts the dropped ones, also across a restart', async (t) => {
  const { path, cleanup } = tempPath();
  t.after(cleanup);
  const a = open({ path, maxEvents: 3 });
  const losses: number[] = [];
  a.on('loss', (l) => losses.push(l.count));
  for (let i = 0; i < 5; i++) await a.persistEvent(rec('c', i));
  assert.deepEqual(
    a.readAfter(0, 10).map((r) => r.eventId),
    ['c-00002', 'c-00003', 'c-00004'],
  );
  assert.equal(a.getCounters().dropped, 2);
  assert.deepEqual(losses, [1, 1]);
  a.close();
  const b = open({ path, maxEvents: 3 });
  assert.equal(b.getCounters().dropped, 2);
  b.close();
});

test('reject-new refuses events beyond maxEvents with a clear error and counts them', async (t) => {
  const { path, cleanup } = tempPath();
  t.after(cleanup);
  const a = open({ path, maxEvents: 2, overflow: 'reject-new' });
  const results = await Promise.allSettled([0, 1, 2, 3].map((i) => a.persistEvent(rec('c', i))));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
  );
  const err = (results[2] as PromiseRejectedResult).reason;
  assert.ok(err instanceof OutboxFullError);
  assert.match(err.message, /outbox full \(2 events/);
  assert.equal(a.getCounters().rejected, 2);
  // room again once one is delivered
  a.markDelivered(a.readAfter(0, 1)[0].seq);
  await a.persistEvent(rec('c', 9));
  assert.deepEqual(
    a.readAfter(0, 10).map((r) => r.eventId),
    ['c-00001', 'c-00009'],
  );
  a.close();
});

test('a broker-rejected event is removed and counted as a loss', async (t) => {
  const { path, cleanup } = tempPath();
  t.after(cleanup);
  const a = open({ path });
  const seq = await a.persistEvent(rec('c', 1));
  a.markBrokerRejected(seq);
  a.flush();
  assert.equal(a.getCounters().brokerRejected, 1);
  assert.equal(a.getCounters().delivered, 0);
  assert.equal(a.readAfter(0, 10).length, 0);
  a.close();
});

test('an outbox path that cannot be created is reported with its key', (t) => {
  const { path, cleanup } = tempPath();
  t.after(cleanup);
  const file = join(path, '..', '..', 'a-file');
  writeFileSync(file, 'not a folder');
  const o = new DurableOutbox(
    { path: join(file, 'outbox.sqlite'), maxEvents: 1, overflow: 'drop-oldest' },
    logger,
  );
  assert.throws(() => o.open(), /mqtt\.outbox\.path: cannot open ".*a-file\/outbox\.sqlite"/);
});

test('persistEvent before open is refused', async () => {
  const o = new DurableOutbox({ path: ':memory:', maxEvents: 1, overflow: 'drop-oldest' }, logger);
  await assert.rejects(o.persistEvent(rec('c', 1)), /not open/);
});

test('results share the store (and its order) with events; a store from before results is upgraded', async (t) => {
  const { path, cleanup } = tempPath();
  t.after(cleanup);
  // a store written by a version without the kind column, with one event waiting
  const { default: Database } = await import('better-sqlite3');
  const { mkdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(path), { recursive: true });
  const old = new Database(path);
  old.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, camera_id TEXT NOT NULL,
    event_id TEXT NOT NULL, payload BLOB NOT NULL, accepted_at_ms INTEGER NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO outbox (camera_id, event_id, payload, accepted_at_ms) VALUES ('cam-a', 'old-1', x'7b7d', 1);`);
  old.close();
  const o = open({ path });
  await o.persistEvent({ ...rec('cam-a', 1), kind: 'result' });
  await o.persistEvent(rec('cam-a', 2));
  const rows = o.readAfter(0, 10);
  assert.deepEqual(
    rows.map((r) => [r.eventId, r.kind]),
    [
      ['old-1', 'event'],
      ['cam-a-00001', 'result'],
      ['cam-a-00002', 'event'],
    ],
  );
  o.close();
});
