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

test('a trigger without a frame within captureTimeoutMs is given up and reported, naming the camera state', async () => {
  // an inner source that never delivers (a camera that is down)
  const dead: FrameSource = {
    realtime: true,
    live: false,
    open: async () => undefined,
    read: () => new Promise<Frame | null>(() => undefined),
    close: async () => undefined,
  };
  const unanswered: string[] = [];
  const t = new TriggerSource(dead, {
    captureTimeoutMs: 30,
    innerState: () => 'reconnecting',
    onUnanswered: (tr, reason, detail) => unanswered.push(`${tr.partId}|${tr.id.length}|${reason}|${detail}`),
  });
  await t.open();
  void t.read();
  t.trigger('P1');
  t.trigger('P2');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(unanswered.length, 2, 'both triggers are answered');
  assert.match(
    unanswered[0],
    /^P1\|36\|trigger-timeout\|no frame within 30 ms of the trigger \(camera reconnecting\)$/,
  );
  assert.match(unanswered[1], /^P2\|/);
  assert.equal(t.waiting, 0);
  // a frame that comes after its trigger timed out is not handed to a later trigger captured before it
  await t.close();
});

test('a late frame goes to the trigger waiting now only if captured after it arrived', async () => {
  let deliver: ((f: Frame) => void) | undefined;
  const slow: FrameSource = {
    realtime: true,
    live: false,
    open: async () => undefined,
    read: () => new Promise<Frame | null>((resolve) => (deliver = resolve)),
    close: async () => undefined,
  };
  const unanswered: string[] = [];
  const t = new TriggerSource(slow, {
    captureTimeoutMs: 20,
    onUnanswered: (tr) => unanswered.push(tr.partId!),
  });
  await t.open();
  const reading = t.read();
  t.trigger('old');
  const stale = performance.now();
  await new Promise((r) => setTimeout(r, 40)); // "old" times out
  t.trigger('new');
  // the frame the read was waiting for was captured before "new" arrived: released, not handed over
  deliver!({
    cameraId: '',
    seq: 0,
    capturedAtMono: stale,
    capturedAtWall: Date.now(),
    image: cv.Mat.zeros(2, 2, cv.CV_8UC1),
  });
  await new Promise((r) => setTimeout(r, 5));
  const fresh = performance.now();
  deliver!({
    cameraId: '',
    seq: 1,
    capturedAtMono: fresh,
    capturedAtWall: Date.now(),
    image: cv.Mat.zeros(2, 2, cv.CV_8UC1),
  });
  const f = await reading;
  assert.equal(f?.partId, 'new');
  assert.equal(f?.seq, 1);
  assert.deepEqual(unanswered, ['old']);
  await t.close();
});

test('triggers still waiting when the source closes are reported as shutdown; refusals say their kind', async () => {
  const unanswered: string[] = [];
  const t = new TriggerSource(new CountingSource(false), {
    maxPending: 1,
    onUnanswered: (tr, reason) => unanswered.push(`${tr.partId}:${reason}`),
  });
  await t.open();
  t.trigger('a');
  assert.throws(
    () => t.trigger('b'),
    (e: unknown) => e instanceof TriggerRejectedError && e.kind === 'busy',
  );
  assert.throws(
    () => t.trigger('x'.repeat(300)),
    (e: unknown) => e instanceof TriggerRejectedError && e.kind === 'invalid',
  );
  await t.close();
  assert.deepEqual(unanswered, ['a:shutdown']);
  assert.throws(
    () => t.trigger('c'),
    (e: unknown) => e instanceof TriggerRejectedError && e.kind === 'closed',
  );
});
