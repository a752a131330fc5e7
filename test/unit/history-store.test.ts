// The local history: results and events stored as published, queried by camera, verdict, part id,
// severity and time (newest first, cursor pages that cover every row exactly once), with operator
// records joined; retention by age and row count that deletes rows, never files; a file that is not
// a history database is refused and left as it was; results as CSV read back by Python's csv module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore, HistoryError } from '../../src/history/history-store.js';
import { resultCsv, csvField } from '../../src/history/csv.js';
import { groupBursts } from '../../src/history/event-groups.js';
import type { EventRow, ResultRow } from '../../src/history/types.js';
import { anomalyEvent, inspectionResult } from '../helpers/documents.js';
import { runPython } from '../helpers/python-ref.js';

const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const MIN = 60_000;

function store(o: { maxAgeH?: number; maxRows?: number; path?: string } = {}): HistoryStore {
  const h = new HistoryStore({
    path: o.path ?? ':memory:',
    maxAgeH: o.maxAgeH ?? 24,
    maxRows: o.maxRows ?? 1000,
  });
  h.open();
  return h;
}

test('results are queried by camera, verdict, part id and time, newest first', () => {
  const h = store();
  const docs = [
    inspectionResult('a', T0, { partId: 'P1', score: 0.2 }),
    inspectionResult('a', T0 + MIN, { partId: 'P2', score: 0.9 }),
    inspectionResult('b', T0 + 2 * MIN, { partId: 'P1', score: 0.1 }),
    inspectionResult('a', T0 + 3 * MIN, { partId: 'P3', reason: 'trigger-timeout' }),
  ];
  for (const d of docs) h.addResult(d);
  h.addResult(docs[0]); // a replay after a restart is ignored
  const all = h.results({ limit: 100 });
  assert.deepEqual(
    all.items.map((r) => r.partId),
    ['P3', 'P1', 'P2', 'P1'],
  );
  assert.equal(all.next, undefined);
  assert.deepEqual(
    h.results({ limit: 10, camera: 'a' }).items.map((r) => r.partId),
    ['P3', 'P2', 'P1'],
  );
  assert.deepEqual(
    h.results({ limit: 10, verdict: 'ng' }).items.map((r) => r.partId),
    ['P2'],
  );
  assert.deepEqual(
    h.results({ limit: 10, verdict: 'error' }).items.map((r) => r.reason),
    ['trigger-timeout'],
  );
  assert.deepEqual(
    h.results({ limit: 10, partId: 'P1' }).items.map((r) => r.cameraId),
    ['b', 'a'],
  );
  assert.deepEqual(
    h.results({ limit: 10, since: T0 + MIN, until: T0 + 3 * MIN }).items.map((r) => r.partId),
    ['P1', 'P2'],
  );
  // stored as published: the document comes back whole
  assert.deepEqual(h.result(docs[1].id), docs[1]);
  assert.equal(h.result('01JDZ8Q6X1M3T4V5W6Y7Z8A9BC'), undefined);
});

test('cursor pages cover every row exactly once, in order', () => {
  const h = store();
  const ids: string[] = [];
  for (let i = 0; i < 23; i++) {
    const r = inspectionResult(i % 2 ? 'a' : 'b', T0 + i * 1000, { partId: `P${i}` });
    ids.push(r.id);
    h.addResult(r);
  }
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = h.results({ limit: 5, cursor });
    seen.push(...page.items.map((r) => r.id));
    cursor = page.next;
    pages++;
  } while (cursor);
  assert.equal(pages, 5);
  assert.deepEqual(seen, [...ids].reverse());
});

test('events carry their acknowledgement and review; one acknowledgement per alarm', () => {
  const h = store();
  const raise = anomalyEvent('a', T0, { severity: 'critical' });
  const clear = anomalyEvent('a', T0 + MIN, { transition: 'clear', alarmId: raise.id, severity: 'info' });
  h.addEvent(raise);
  h.addEvent(clear);
  const ack = {
    alarmId: raise.id,
    eventId: clear.id,
    by: 'ann',
    at: new Date(T0 + 2 * MIN).toISOString(),
    comment: 'seen',
  };
  assert.equal(h.addAcknowledgement({ ...ack, cameraId: 'a' }), true);
  assert.equal(h.addAcknowledgement({ ...ack, by: 'bob', cameraId: 'a' }), false, 'the first one stays');
  h.setReview({
    kind: 'event',
    targetId: raise.id,
    label: 'false-positive',
    by: 'ann',
    at: ack.at,
    cameraId: 'a',
    target: JSON.stringify(raise),
  });
  const rows = h.events({ limit: 10 }).items;
  assert.deepEqual(
    rows.map((r) => r.id),
    [clear.id, raise.id],
  );
  assert.equal(rows[0].acknowledged?.by, 'ann', 'both events of the alarm show its acknowledgement');
  assert.equal(rows[1].acknowledged?.comment, 'seen');
  assert.equal(rows[1].review?.label, 'false-positive');
  assert.equal(rows[0].review, undefined);
  assert.deepEqual(
    h.events({ limit: 10, severity: 'critical' }).items.map((r) => r.id),
    [raise.id],
  );
  // a person may change their mind: the review is replaced
  h.setReview({
    kind: 'event',
    targetId: raise.id,
    label: 'confirmed',
    by: 'bob',
    at: ack.at,
    cameraId: 'a',
    target: '{}',
  });
  assert.equal(h.event(raise.id)?.review?.label, 'confirmed');
  assert.equal(h.reviews().length, 1);
});

test('retention deletes rows by age and count (oldest first), keeps reviews, and touches no file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  // files beside the database that the service did not write
  writeFileSync(join(dir, 'foreign.jpg'), 'not ours');
  writeFileSync(join(dir, 'notes.txt'), 'keep me');
  const h = store({ path: join(dir, 'history.sqlite'), maxAgeH: 1, maxRows: 3 });
  const now = T0 + 10 * 60 * MIN;
  const old = inspectionResult('a', now - 2 * 60 * MIN, { partId: 'old' });
  h.addResult(old);
  for (let i = 0; i < 5; i++) h.addResult(inspectionResult('a', now - (5 - i) * MIN, { partId: `new${i}` }));
  h.addEvent(anomalyEvent('a', now - 3 * 60 * MIN));
  h.setReview({
    kind: 'result',
    targetId: old.id,
    label: 'confirmed',
    by: 'ann',
    at: new Date(now).toISOString(),
    cameraId: 'a',
    target: JSON.stringify(old),
  });
  const before = readdirSync(dir).filter((f) => !f.startsWith('history.sqlite'));
  const deleted = h.prune(now);
  assert.deepEqual(deleted, { results: 3, events: 1, acknowledgements: 0 }, '1 too old, then 2 over maxRows');
  assert.deepEqual(
    h.results({ limit: 10 }).items.map((r) => r.partId),
    ['new4', 'new3', 'new2'],
  );
  assert.equal(h.reviews().length, 1, 'reviews are the labelled data: retention keeps them');
  assert.deepEqual(
    readdirSync(dir).filter((f) => !f.startsWith('history.sqlite')),
    before,
  );
  assert.equal(readFileSync(join(dir, 'foreign.jpg'), 'utf8'), 'not ours');
  h.close();
});

test('a file at history.path that is not a history database is refused and left unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'history-foreign-'));
  const other = join(dir, 'other.sqlite');
  const db = new Database(other);
  db.exec(
    'CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices VALUES (1, 9.5)',
  );
  db.close();
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'plain text, not SQLite at all');
  for (const path of [other, text]) {
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.throws(
      () => store({ path }),
      (e: unknown) => e instanceof HistoryError && /history\.path/.test(e.message),
    );
    assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), hash, `${path} unchanged`);
  }
  // a history database opens again
  const own = join(dir, 'own.sqlite');
  const h = store({ path: own });
  h.addResult(inspectionResult('a', T0));
  h.close();
  const again = store({ path: own });
  assert.equal(again.results({ limit: 5 }).items.length, 1);
  again.close();
});

test("CSV: RFC 4180 quoting and formula neutralising, read back by Python's csv module", () => {
  const rows: ResultRow[] = [
    inspectionResult('a', T0, { partId: '=HYPERLINK("http://x")', score: 0.9 }),
    inspectionResult('a', T0 + 1, { partId: 'P,2 "quoted"\nline', score: 0.1 }),
    inspectionResult('b', T0 + 2, { reason: 'suspended' }),
  ];
  const csv = [...resultCsv(rows)].join('');
  const parsed = JSON.parse(
    runPython(
      'import csv,io,json,sys; print(json.dumps(list(csv.DictReader(io.StringIO(sys.argv[1], newline="")))))',
      [csv],
    ),
  ) as Record<string, string>[];
  assert.equal(parsed.length, 3);
  assert.equal(parsed[0].partId, `'=HYPERLINK("http://x")`, 'a formula is not run by a spreadsheet');
  assert.equal(parsed[1].partId, 'P,2 "quoted"\nline');
  assert.equal(parsed[0].verdict, 'ng');
  assert.equal(Number(parsed[0].score), 0.9);
  assert.equal(parsed[2].verdict, 'error');
  assert.equal(parsed[2].reason, 'suspended');
  assert.equal(parsed[2].score, '');
  assert.equal(csvField(-1), '-1', 'numbers are not text: no apostrophe');
});

test('bursts: one group per camera while events are at most gapMs apart', () => {
  const e = (cam: string, min: number, o: Parameters<typeof anomalyEvent>[2] = {}) =>
    anomalyEvent(cam, T0 + min * MIN, o);
  // newest first, as the history returns them
  const rows: EventRow[] = [
    e('a', 30, { severity: 'info', transition: 'clear', alarmId: '01JDZ8Q6X1M3T4V5W6Y7Z8A9BC' }),
    e('b', 29.5),
    e('a', 29.8, { severity: 'critical', score: 0.95 }),
    e('a', 29),
    e('a', 10),
  ];
  const groups = groupBursts(rows, 2 * MIN);
  assert.deepEqual(
    groups.map((g) => [g.cameraId, g.count]),
    [
      ['a', 3],
      ['b', 1],
      ['a', 1],
    ],
  );
  assert.equal(groups[0].maxSeverity, 'critical');
  assert.equal(groups[0].peakScore, 0.95);
  assert.equal(groups[0].id, rows[0].id);
  assert.equal(groups[0].from, rows[3].capturedAt);
  assert.equal(groups[0].to, rows[0].capturedAt);
  assert.equal(groups[0].raises, 2);
  assert.ok(
    groups[0].since <= Date.parse(rows[3].capturedAt) && groups[0].until > Date.parse(rows[0].capturedAt),
  );
});
