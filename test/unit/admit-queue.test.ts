// The admission policies, exactly: a fake clock, plain items, no streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionQueue, type AdmissionOptions } from '../../src/admit/admission-queue.js';
import { DropCounter } from '../../src/admit/drop-counter.js';
import type { DropReason } from '../../src/admit/drop-reasons.js';

interface Item {
  seq: number;
  at: number;
}

function queue(o: Partial<AdmissionOptions>) {
  const dropped: [number, DropReason][] = [];
  let queued = 0;
  const q = new AdmissionQueue<Item>(
    { policy: 'latest', capacity: 2, everyNth: 1, staleMs: 100, realtime: true, ...o },
    (i) => i.at,
    (i, reason) => dropped.push([i.seq, reason]),
    () => queued++,
  );
  return { q, dropped, queuedCalls: () => queued };
}

const item = (seq: number, at = 0): Item => ({ seq, at });

test('latest: a full queue makes room by dropping its oldest frame as replaced-by-newer', () => {
  const { q, dropped, queuedCalls } = queue({ capacity: 2 });
  assert.equal(q.offer(item(0)), 'queued');
  assert.equal(q.offer(item(1)), 'queued');
  assert.equal(q.offer(item(2)), 'replaced');
  assert.equal(q.offer(item(3)), 'replaced');
  assert.equal(q.size, 2);
  assert.deepEqual(dropped, [
    [0, 'replaced-by-newer'],
    [1, 'replaced-by-newer'],
  ]);
  assert.equal(q.take(0)?.seq, 2);
  assert.equal(q.take(0)?.seq, 3);
  assert.equal(q.take(0), undefined);
  assert.equal(queuedCalls(), 4);
  assert.equal(q.blocking, false);
});

test('latest: frames older than staleMs when taken are dropped as stale, fresher ones are returned', () => {
  const { q, dropped } = queue({ capacity: 3, staleMs: 100 });
  q.offer(item(0, 0));
  q.offer(item(1, 50));
  q.offer(item(2, 120));
  // at t=160: frame 0 is 160 ms old (stale), frame 1 is 110 ms old (stale), frame 2 is 40 ms old
  assert.equal(q.take(160)?.seq, 2);
  assert.deepEqual(dropped, [
    [0, 'stale'],
    [1, 'stale'],
  ]);
});

test('every-nth: admits frames 0, N, 2N ... and counts the others', () => {
  const { q, dropped } = queue({ policy: 'every-nth', everyNth: 3, capacity: 10 });
  const results = Array.from({ length: 7 }, (_, i) => q.offer(item(i)));
  assert.deepEqual(results, ['queued', 'skipped', 'skipped', 'queued', 'skipped', 'skipped', 'queued']);
  assert.deepEqual(
    dropped.map(([s, r]) => `${s}:${r}`),
    ['1:every-nth', '2:every-nth', '4:every-nth', '5:every-nth'],
  );
  assert.deepEqual([q.take(0)?.seq, q.take(0)?.seq, q.take(0)?.seq], [0, 3, 6]);
});

test('keep-all: never drops; a full queue answers "full" and space() resolves when a frame is taken', async () => {
  const { q, dropped } = queue({ policy: 'keep-all', capacity: 2, staleMs: 1 });
  assert.equal(q.blocking, true);
  q.offer(item(0, 0));
  q.offer(item(1, 0));
  assert.equal(q.offer(item(2, 0)), 'full');
  let resolved = false;
  const space = q.space().then(() => (resolved = true));
  await Promise.resolve();
  assert.equal(resolved, false, 'no space yet');
  // long past staleMs: keep-all still hands the frame over
  assert.equal(q.take(10_000)?.seq, 0);
  await space;
  assert.equal(resolved, true);
  assert.deepEqual(dropped, []);
});

test('a source that is not real-time is paused, not dropped, even under the latest policy', () => {
  const { q, dropped } = queue({ policy: 'latest', capacity: 1, realtime: false });
  assert.equal(q.blocking, true);
  q.offer(item(0));
  assert.equal(q.offer(item(1)), 'full');
  assert.equal(q.take(1e9)?.seq, 0, 'no staleness drop for a paused source');
  assert.deepEqual(dropped, []);
});

test('close: queued frames can still be taken; finished once empty; waiting producers wake', async () => {
  const { q } = queue({ policy: 'keep-all', capacity: 1 });
  q.offer(item(0));
  const waiting = q.space();
  q.close();
  await waiting;
  assert.equal(q.finished, false);
  assert.throws(() => q.offer(item(1)), /closed/);
  assert.equal(q.take(0)?.seq, 0);
  assert.equal(q.finished, true);
});

test('dropAll reports every queued frame with the reason given', () => {
  const { q, dropped } = queue({ capacity: 3 });
  q.offer(item(0));
  q.offer(item(1));
  assert.equal(q.dropAll('shutdown'), 2);
  assert.deepEqual(dropped, [
    [0, 'shutdown'],
    [1, 'shutdown'],
  ]);
});

test('bad settings are refused with the name of the setting', () => {
  assert.throws(() => queue({ capacity: 0 }), /capacity/);
  assert.throws(() => queue({ everyNth: 0 }), /everyNth/);
});

test('DropCounter counts by camera and reason and tells listeners', () => {
  const c = new DropCounter();
  const heard: string[] = [];
  const stop = c.onDrop((e) => heard.push(`${e.cameraId}/${e.reason}`));
  c.record({ cameraId: 'a', reason: 'stale', seq: 1 });
  c.record({ cameraId: 'a', reason: 'stale', seq: 2 });
  c.record({ cameraId: 'b', reason: 'engine-error', seq: 1 });
  stop();
  c.record({ cameraId: 'b', reason: 'every-nth', seq: 2 });
  assert.equal(c.counts('a').stale, 2);
  assert.equal(c.counts('b')['engine-error'], 1);
  assert.equal(c.counts('zzz').stale, 0);
  assert.equal(c.total(), 4);
  assert.equal(c.total('stale'), 2);
  assert.deepEqual(heard, ['a/stale', 'a/stale', 'b/engine-error']);
  assert.deepEqual(Object.keys(c.snapshot()).sort(), ['a', 'b']);
});

test('takeUpTo: a latest-wins queue hands out its newest frames and drops the older ones', () => {
  const { q, dropped } = queue({ capacity: 3 });
  q.offer(item(0));
  q.offer(item(1));
  q.offer(item(2));
  assert.deepEqual(
    q.takeUpTo(1, 0).map((i) => i.seq),
    [2],
  );
  assert.deepEqual(dropped, [
    [0, 'replaced-by-newer'],
    [1, 'replaced-by-newer'],
  ]);
  q.offer(item(3));
  q.offer(item(4));
  assert.deepEqual(
    q.takeUpTo(5, 0).map((i) => i.seq),
    [3, 4],
    'room for all: all of them, oldest first',
  );
});

test('takeUpTo: a keep-all queue hands out its oldest frames and loses nothing', () => {
  const { q, dropped } = queue({ policy: 'keep-all', capacity: 3 });
  for (let i = 0; i < 3; i++) q.offer(item(i));
  assert.deepEqual(
    q.takeUpTo(2, 0).map((i) => i.seq),
    [0, 1],
  );
  assert.equal(q.size, 1);
  assert.deepEqual(dropped, []);
});
