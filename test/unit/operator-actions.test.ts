// The operator's actions on a real (in-memory) history: acknowledging an alarm (once; a cleared one
// for the record), reviews with the frame copied out of the snapshot folder, suspensions that
// survive a restart and expire, and the export of reviewed images in the MVTec AD layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../../src/history/history-store.js';
import { Acknowledgements } from '../../src/operator/acknowledgements.js';
import { AlarmBoard, type AlarmState } from '../../src/operator/alarm-board.js';
import { Reviews } from '../../src/operator/reviews.js';
import { classFolder, exportReviews } from '../../src/operator/review-export.js';
import { Suspensions, type Suspension } from '../../src/operator/suspensions.js';
import { OperatorError } from '../../src/operator/types.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { anomalyEvent, inspectionResult } from '../helpers/documents.js';

const cv = loadOpenCV();
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const dashboard = (user?: string) => ({ door: 'dashboard' as const, ...(user && { user }) });

function history(path = ':memory:'): HistoryStore {
  const h = new HistoryStore({ path, maxAgeH: 24, maxRows: 1000 });
  h.open();
  return h;
}

const status = (err: unknown) => (err instanceof OperatorError ? err.status : undefined);

test('acknowledging: the open alarm carries who/when/comment; once only; a cleared one for the record', () => {
  const h = history();
  const changes: AlarmState[] = [];
  const board = new AlarmBoard(['a', 'b'], (s) => changes.push(s));
  let acked = 0;
  const acks = new Acknowledgements({ history: h, board, acknowledged: () => acked++, now: () => T0 + 5000 });
  const raise = anomalyEvent('a', T0, { severity: 'critical' });
  h.addEvent(raise);
  board.onEvent(raise);
  assert.equal(board.get('a').active, true);
  assert.equal(board.get('a').eventId, raise.id);

  const out = acks.acknowledge(raise.id, dashboard('ann'), 'checking the feeder');
  assert.equal(out.active, true);
  assert.deepEqual(out.alarm.acknowledged, {
    by: 'ann',
    at: new Date(T0 + 5000).toISOString(),
    comment: 'checking the feeder',
  });
  assert.equal(
    changes.at(-1)?.acknowledged?.by,
    'ann',
    'the change is announced (retained topic, Sparkplug)',
  );
  assert.equal(acked, 1);
  assert.throws(
    () => acks.acknowledge(raise.id, dashboard('bob')),
    (e) => status(e) === 409 && /acknowledged by ann/.test((e as Error).message),
  );
  assert.throws(
    () => acks.acknowledge('01JDZ8Q6X1M3T4V5W6Y7Z8A9BC', dashboard('bob')),
    (e) => status(e) === 404,
  );

  // the alarm clears; a later alarm is acknowledged after it cleared: stored, state stays cleared
  const clear = anomalyEvent('a', T0 + 60_000, { transition: 'clear', alarmId: raise.id, severity: 'info' });
  h.addEvent(clear);
  board.onEvent(clear);
  assert.equal(board.get('a').active, false);
  assert.equal(board.get('a').acknowledged?.by, 'ann', 'the cleared alarm keeps its acknowledgement');
  const second = anomalyEvent('a', T0 + 120_000);
  const secondClear = anomalyEvent('a', T0 + 130_000, { transition: 'clear', alarmId: second.id });
  for (const e of [second, secondClear]) {
    h.addEvent(e);
    board.onEvent(e);
  }
  const late = acks.acknowledge(secondClear.id, { door: 'mqtt', clientId: 'scada' });
  assert.equal(late.active, false);
  assert.equal(late.alarm.active, false, 'published as cleared');
  assert.equal(late.acknowledgement.alarmId, second.id, 'acknowledging a clear acknowledges its alarm');
  assert.equal(late.acknowledgement.by, 'mqtt:scada');
  assert.equal(h.acknowledgement(second.id)?.eventId, secondClear.id);

  assert.throws(
    () => new Acknowledgements({ board }).acknowledge(raise.id, dashboard()),
    (e) => status(e) === 503,
  );
});

test('reviews: stored with the document; the frame is copied out of the snapshot folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reviews-'));
  const snaps = join(dir, 'snaps');
  mkdirSync(join(snaps, 'a'), { recursive: true });
  const h = history();
  const frameRef = (id: string) => ({
    id: `${id}-frame`,
    kind: 'frame' as const,
    contentType: 'image/jpeg' as const,
    path: `a/${id}-frame.jpg`,
    bytes: 10,
    width: 64,
    height: 48,
  });
  const ev = anomalyEvent('a', T0);
  const withSnap = { ...ev, snapshots: [frameRef(ev.id)] };
  h.addEvent(withSnap);
  cv.imwrite(join(snaps, 'a', `${ev.id}-frame.jpg`), new cv.Mat(48, 64, cv.CV_8UC3, [0, 128, 255]));
  const gone = inspectionResult('a', T0 + 1, { score: 0.9 });
  const goneWithSnap = { ...gone, snapshots: [frameRef(gone.id)] }; // its file was pruned
  h.addResult(goneWithSnap);
  const err = inspectionResult('a', T0 + 2, { reason: 'suspended' });
  h.addResult(err);
  const labels: string[] = [];
  const warnings: string[] = [];
  const reviews = new Reviews({
    history: h,
    snapshotDir: snaps,
    reviewsDir: join(dir, 'reviews'),
    reviewed: (k, l) => labels.push(`${k}:${l}`),
    warn: (_o, m) => warnings.push(m),
  });
  const r1 = await reviews.review('event', ev.id, 'false-positive', dashboard('ann'), 'glare');
  assert.equal(r1.image, `event-${ev.id}-frame.jpg`);
  assert.ok(existsSync(join(dir, 'reviews', r1.image!)));
  assert.equal(h.event(ev.id)?.review?.comment, 'glare');
  const r2 = await reviews.review('result', gone.id, 'confirmed', dashboard('ann'));
  assert.equal(r2.image, undefined, 'no image to copy: stored without one, and said so');
  assert.equal(warnings.length, 1);
  await assert.rejects(reviews.review('result', err.id, 'confirmed', dashboard()), (e) => status(e) === 409);
  await assert.rejects(reviews.review('event', gone.id, 'confirmed', dashboard()), (e) => status(e) === 404);
  assert.deepEqual(labels, ['event:false-positive', 'result:confirmed']);
  rmSync(dir, { recursive: true, force: true });
});

test('suspensions: until resumed or for a duration; kept across a restart; expired ones resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'susp-'));
  const path = join(dir, 'h.sqlite');
  const h = history(path);
  const seen: [string, Suspension | undefined][] = [];
  const s = new Suspensions(['a', 'b'], { history: h, changed: (id, x) => seen.push([id, x]) });
  const a = s.suspend('a', { comment: 'belt change' }, dashboard('ann'));
  assert.equal(a.until, undefined);
  assert.equal(a.by, 'ann');
  const b = s.suspend('b', { durationS: 0.15 }, { door: 'mqtt' });
  assert.ok(b.until);
  assert.equal(s.isSuspended('b'), true);
  assert.throws(
    () => s.suspend('c', {}, dashboard()),
    (e) => status(e) === 404,
  );
  assert.throws(
    () => s.suspend('a', { durationS: -1 }, dashboard()),
    (e) => status(e) === 400,
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.isSuspended('b'), false, 'the duration ran out');
  assert.deepEqual(seen.at(-1), ['b', undefined]);
  s.stop();
  h.close();

  // a restart: camera a is still suspended (by hand), b is not
  const h2 = history(path);
  const restored: string[] = [];
  const s2 = new Suspensions(['a', 'b'], {
    history: h2,
    changed: (id, x) => restored.push(`${id}:${x ? 'on' : 'off'}`),
  });
  s2.restore();
  assert.deepEqual(restored, ['a:on']);
  assert.equal(s2.get('a')?.comment, 'belt change');
  assert.equal(s2.resume('a', dashboard('bob')), true);
  assert.equal(s2.resume('a', dashboard('bob')), false, 'resuming a running camera changes nothing');
  assert.equal(h2.suspensions().length, 0);
  s2.stop();
  h2.close();

  // one that expired while the service was stopped is resumed at start
  const h3 = history(path);
  h3.setSuspension({
    cameraId: 'a',
    since: new Date(T0).toISOString(),
    until: new Date(T0 + 1000).toISOString(),
    by: 'x',
    door: 'dashboard',
  });
  const s3 = new Suspensions(['a'], { history: h3, changed: () => assert.fail('nothing to apply') });
  s3.restore();
  assert.equal(s3.isSuspended('a'), false);
  assert.equal(h3.suspensions().length, 0);
  h3.close();
  rmSync(dir, { recursive: true, force: true });
});

test('review export: MVTec AD layout per class; false positives good, confirmed defects with box masks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-'));
  const h = history();
  const reviewsDir = join(dir, 'reviews');
  mkdirSync(reviewsDir);
  const img = new cv.Mat(60, 80, cv.CV_8UC3, [40, 40, 40]);
  const fp = anomalyEvent('a', T0);
  const defect = { ...inspectionResult('a', T0 + 1, { score: 0.9 }), className: 'metal nut' };
  const lost = inspectionResult('a', T0 + 2, { score: 0.9 });
  cv.imwrite(join(reviewsDir, `event-${fp.id}-frame.jpg`), img);
  cv.imwrite(join(reviewsDir, `result-${defect.id}-frame.jpg`), img);
  const at = new Date(T0).toISOString();
  h.setReview({
    kind: 'event',
    targetId: fp.id,
    label: 'false-positive',
    by: 'ann',
    at,
    cameraId: 'a',
    image: `event-${fp.id}-frame.jpg`,
    target: JSON.stringify(fp),
  });
  h.setReview({
    kind: 'result',
    targetId: defect.id,
    label: 'confirmed',
    by: 'ann',
    at,
    cameraId: 'a',
    image: `result-${defect.id}-frame.jpg`,
    target: JSON.stringify(defect),
  });
  h.setReview({
    kind: 'result',
    targetId: lost.id,
    label: 'confirmed',
    by: 'ann',
    at,
    cameraId: 'a',
    target: JSON.stringify(lost),
  });
  const out = join(dir, 'out');
  const report = await exportReviews({ history: h, reviewsDir, snapshotDir: join(dir, 'snaps'), out });
  assert.equal(report.items.length, 2);
  assert.equal(report.skipped.length, 1);
  assert.match(report.skipped[0].reason, /no image/);
  assert.ok(existsSync(join(out, 'screw', 'test', 'good', `event-${fp.id}.jpg`)));
  const nut = classFolder('metal nut');
  assert.equal(nut, 'metal_nut');
  assert.ok(existsSync(join(out, nut, 'test', 'defect', `result-${defect.id}.jpg`)));
  const mask = cv.imread(
    join(out, nut, 'ground_truth', 'defect', `result-${defect.id}_mask.png`),
    cv.IMREAD_GRAYSCALE,
  );
  assert.equal(mask.cols, 80);
  assert.equal(mask.rows, 60);
  // the region box x 10..39, y 20..59 (clipped to the 60-row image) is 255, the rest 0
  const r = defect.regions[0];
  assert.equal(mask.at(r.y + 1, r.x + 1), 255);
  assert.equal(mask.at(r.y - 1, r.x), 0);
  assert.equal(mask.at(r.y, r.x + r.width), 0);
  assert.equal(cv.countNonZero(mask), r.width * Math.min(r.height, 60 - r.y));
  const listed = JSON.parse(readFileSync(join(out, 'export.json'), 'utf8'));
  assert.match(listed.note, /approximate/);
  assert.deepEqual(report.counts, { screw: { good: 1, defect: 0 }, [nut]: { good: 0, defect: 1 } });
  rmSync(dir, { recursive: true, force: true });
});
