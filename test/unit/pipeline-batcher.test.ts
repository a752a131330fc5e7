// The batcher alone: fair shares across cameras, freshest frames under latest-wins, the deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionQueue, type AdmissionOptions } from '../../src/admit/admission-queue.js';
import { Batcher } from '../../src/pipeline/batcher.js';

interface Item {
  cam: string;
  seq: number;
}

function queues(ids: string[], o: Partial<AdmissionOptions> = {}) {
  const dropped: string[] = [];
  let batcher: Batcher<Item> | undefined;
  const qs = ids.map(
    () =>
      new AdmissionQueue<Item>(
        { policy: 'latest', capacity: 4, everyNth: 1, staleMs: 1e9, realtime: true, ...o },
        () => 0,
        (i, r) => dropped.push(`${i.cam}${i.seq}:${r}`),
        () => batcher?.signal.notify(),
      ),
  );
  const make = (maxBatch: number, deadlineMs = 0) => (batcher = new Batcher(qs, { maxBatch, deadlineMs }));
  return { qs, dropped, make };
}

const label = (b: Item[] | null) => b?.map((i) => `${i.cam}${i.seq}`);

test('a batch is shared round-robin: every camera with frames gets a place before any gets two', async () => {
  const { qs, make } = queues(['a', 'b', 'c']);
  for (let s = 0; s < 3; s++) qs[0].offer({ cam: 'a', seq: s });
  qs[1].offer({ cam: 'b', seq: 0 });
  qs[2].offer({ cam: 'c', seq: 0 });
  qs[2].offer({ cam: 'c', seq: 1 });
  const b = make(4);
  const first = await b.next();
  assert.equal(first?.length, 4);
  assert.deepEqual(new Set(first?.map((i) => i.cam)), new Set(['a', 'b', 'c']));
});

test('latest-wins cameras contribute their newest frames; keep-all cameras their oldest', async () => {
  const latest = queues(['a', 'b']);
  for (let s = 0; s < 3; s++) latest.qs[0].offer({ cam: 'a', seq: s });
  for (let s = 0; s < 3; s++) latest.qs[1].offer({ cam: 'b', seq: s });
  assert.deepEqual(label(await latest.make(2).next()), ['a2', 'b2']);
  assert.deepEqual(latest.dropped.sort(), [
    'a0:replaced-by-newer',
    'a1:replaced-by-newer',
    'b0:replaced-by-newer',
    'b1:replaced-by-newer',
  ]);

  const keep = queues(['a', 'b'], { policy: 'keep-all' });
  for (let s = 0; s < 3; s++) keep.qs[0].offer({ cam: 'a', seq: s });
  for (let s = 0; s < 3; s++) keep.qs[1].offer({ cam: 'b', seq: s });
  const b = keep.make(2);
  assert.deepEqual(label(await b.next()), ['a0', 'b0']);
  assert.deepEqual(label(await b.next()), ['b1', 'a1']);
  assert.deepEqual(keep.dropped, []);
});

test('with room to spare it waits up to the deadline for more frames, then goes with what it has', async () => {
  const { qs, make } = queues(['a', 'b']);
  const b = make(4, 40);
  qs[0].offer({ cam: 'a', seq: 0 });
  const pending = b.next();
  setTimeout(() => qs[1].offer({ cam: 'b', seq: 0 }), 5);
  assert.deepEqual(label(await pending), ['a0', 'b0']);
});

test('next() returns null once every queue is closed and empty, and after stop()', async () => {
  const { qs, make } = queues(['a']);
  const b = make(2);
  qs[0].offer({ cam: 'a', seq: 0 });
  qs[0].close();
  assert.deepEqual(label(await b.next()), ['a0']);
  assert.equal(await b.next(), null);
  const other = queues(['x']);
  const ob = other.make(1);
  const waiting = ob.next();
  ob.stop();
  assert.equal(await waiting, null);
});
