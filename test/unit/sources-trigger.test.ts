// The trigger source: a frame per trigger, carrying its part id, from a pausable inner source or
// from a live stream that is drained so the frame is captured after the trigger. The inner sources
// are test doubles (no camera here); test/integration/sources-trigger.test.ts uses the real ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV } from '../../src/util/opencv.js';
import type { Frame } from '../../src/sources/frame.js';
import type { FrameSource } from '../../src/sources/source.js';
import { TriggerSource, TriggerRejectedError } from '../../src/sources/trigger.js';

const cv = loadOpenCV();

/** Counts frames; live: produces a frame every `everyMs` like a free-running camera. */
class CountingSource implements FrameSource {
  readonly realtime = true;
  reads = 0;
  closed = false;
  constructor(
    readonly live: boolean,
    private readonly everyMs = 2,
  ) {}
  async open(): Promise<void> {}
  async read(): Promise<Frame | null> {
    if (this.closed) return null;
    if (this.live) await new Promise((r) => setTimeout(r, this.everyMs));
    if (this.closed) return null;
    const n = this.reads++;
    return {
      cameraId: '',
      seq: n,
      capturedAtMono: performance.now(),
      capturedAtWall: Date.now(),
      image: cv.Mat.zeros(2, 2, cv.CV_8UC1),
    };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

test('one frame per trigger, in trigger order, each with its part id and trigger id', async () => {
  const inner = new CountingSource(false);
  const t = new TriggerSource(inner);
  await t.open();
  const ids = [t.trigger('part-A'), t.trigger('part-B'), t.trigger()];
  const frames = [await t.read(), await t.read(), await t.read()];
  assert.deepEqual(
    frames.map((f) => f?.partId),
    ['part-A', 'part-B', undefined],
  );
  assert.deepEqual(
    frames.map((f) => f?.triggerId),
    ids,
  );
  assert.equal(new Set(ids).size, 3, 'trigger ids are unique');
  assert.equal(inner.reads, 3, 'no frame is read without a trigger');
  await t.close();
});

test('read() waits for a trigger; close() ends the wait with null', async () => {
  const t = new TriggerSource(new CountingSource(false));
  await t.open();
  const pending = t.read();
  let settled = false;
  void pending.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'no trigger, no frame');
  assert.equal(t.waiting, 0);
  t.trigger('late');
  assert.equal((await pending)?.partId, 'late');
  const waiting = t.read();
  await t.close();
  assert.equal(await waiting, null);
});

test('a live stream is drained: the frame handed over was captured after the trigger', async () => {
  const inner = new CountingSource(true, 2);
  const t = new TriggerSource(inner);
  await t.open();
  // the stream keeps being read while nobody triggers (its frames are discarded)
  while (inner.reads < 5) await new Promise((r) => setTimeout(r, 2));
  const before = inner.reads;
  t.trigger('p1');
  const f = await t.read();
  assert.ok(f && f.triggeredAtMono !== undefined);
  assert.ok(f.capturedAtMono >= f.triggeredAtMono, 'captured after the trigger, not from a buffer');
  assert.ok(f.seq >= before);
  assert.equal(f.partId, 'p1');
  await t.close();
  assert.equal(inner.closed, true);
});

test('too many waiting triggers are rejected with a clear error and reported', async () => {
  const rejected: string[] = [];
  const t = new TriggerSource(new CountingSource(false), {
    maxPending: 2,
    onRejected: (p, reason) => rejected.push(`${p}: ${reason}`),
  });
  await t.open();
  t.trigger('a');
  t.trigger('b');
  assert.throws(() => t.trigger('c'), TriggerRejectedError);
  assert.equal(rejected.length, 1);
  assert.match(rejected[0], /^c: 2 triggers already waiting/);
  assert.throws(() => t.trigger(''), /partId must be a string of 1\.\.256 characters/);
  await t.close();
});
