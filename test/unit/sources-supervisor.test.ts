// The supervisor keeps a camera alive: a source that dies, fails to reopen, stalls or ends. The
// failing sources here are scripted test doubles (a real camera cannot be unplugged in a test);
// the real OpenCV sources are tested under test/integration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV } from '../../src/util/opencv.js';
import type { Frame } from '../../src/sources/frame.js';
import type { FrameSource, SourceStateEvent } from '../../src/sources/source.js';
import { SupervisedSource } from '../../src/sources/supervisor.js';
import { backoffDelay } from '../../src/sources/backoff.js';

const cv = loadOpenCV();

function frame(): Frame {
  return {
    cameraId: '',
    seq: 0,
    capturedAtMono: performance.now(),
    capturedAtWall: Date.now(),
    image: cv.Mat.zeros(4, 4, cv.CV_8UC3),
  };
}

/** A scripted source: each step is 'frame', 'throw', 'end' or 'hang' (a read that never returns). */
class ScriptedSource implements FrameSource {
  readonly realtime = true;
  closed = false;
  constructor(
    private readonly steps: ('frame' | 'throw' | 'end' | 'hang')[],
    readonly live: boolean,
    private readonly openFails = false,
  ) {}
  async open(): Promise<void> {
    if (this.openFails) throw new Error('camera unreachable');
  }
  async read(): Promise<Frame | null> {
    const s = this.steps.shift() ?? 'end';
    if (s === 'frame') return frame();
    if (s === 'throw') throw new Error('connection reset');
    if (s === 'hang') return new Promise(() => undefined);
    return null;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const fast = { initialMs: 1, maxMs: 4, jitter: 0 };

test('backoff doubles from initialMs up to maxMs, jitter scales it within +-jitter', () => {
  const o = { initialMs: 100, maxMs: 1000, jitter: 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o)),
    [100, 200, 400, 800, 1000, 1000],
  );
  const j = { initialMs: 100, maxMs: 1000, jitter: 0.2 };
  assert.equal(
    backoffDelay(1, j, () => 0),
    80,
  );
  assert.equal(
    backoffDelay(1, j, () => 0.5),
    100,
  );
  assert.equal(
    backoffDelay(1, j, () => 0.999999),
    120,
  );
});

test('a source that dies and comes back: reopened with backoff, states reported, seq continues', async () => {
  const instances = [
    new ScriptedSource(['frame', 'frame', 'throw'], true),
    new ScriptedSource([], true, true),
    new ScriptedSource(['frame', 'frame'], true),
  ];
  let made = 0;
  const sup = new SupervisedSource(() => instances[made++], { cameraId: 'cam', reconnect: fast });
  const events: SourceStateEvent[] = [];
  sup.onState((e) => events.push(e));
  await sup.open();
  const seqs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const f = await sup.read();
    assert.ok(f, `frame ${i}`);
    assert.equal(f.cameraId, 'cam');
    seqs.push(f.seq);
  }
  assert.deepEqual(seqs, [0, 1, 2, 3], 'sequence numbers are never reused across reopenings');
  assert.deepEqual(
    events.map((e) => `${e.state}:${e.attempt ?? ''}`),
    ['online:', 'reconnecting:1', 'reconnecting:2', 'online:'],
  );
  assert.match(events[1].reason, /read failed: connection reset/);
  assert.match(events[2].reason, /open failed: camera unreachable/);
  assert.equal(events[2].retryInMs, 2, 'second attempt waits twice the first');
  assert.ok(instances[0].closed && instances[1].closed, 'failed instances are closed');
  await sup.close();
  assert.equal(sup.state, 'offline');
  assert.equal(await sup.read(), null, 'a closed source reads null');
});

test('a stalled read is abandoned after stallTimeoutMs: stalled, then reconnecting, then online', async () => {
  const instances = [new ScriptedSource(['frame', 'hang'], true), new ScriptedSource(['frame'], true)];
  let made = 0;
  const sup = new SupervisedSource(() => instances[made++], {
    cameraId: 'cam',
    stallTimeoutMs: 30,
    reconnect: fast,
  });
  const states: string[] = [];
  sup.onState((e) => states.push(e.state));
  assert.equal((await sup.read())?.seq, 0);
  assert.equal((await sup.read())?.seq, 1);
  assert.deepEqual(states, ['online', 'stalled', 'reconnecting', 'online']);
  await sup.close();
});

test('repeated failures are reported offline (and retried) until a frame arrives', async () => {
  let made = 0;
  const sup = new SupervisedSource(
    () => (made++ < 4 ? new ScriptedSource([], true, true) : new ScriptedSource(['frame'], true)),
    { cameraId: 'cam', reconnect: fast, offlineAfterFailures: 3 },
  );
  const states: string[] = [];
  sup.onState((e) => states.push(`${e.state}:${e.attempt ?? ''}`));
  assert.ok(await sup.read());
  assert.deepEqual(states, ['reconnecting:1', 'reconnecting:2', 'offline:3', 'offline:4', 'online:']);
  await sup.close();
});

test('a finite source that ends is offline with "end of input" and reads null; a live one is reopened', async () => {
  const finite = new SupervisedSource(() => new ScriptedSource(['frame', 'end'], false), { cameraId: 'f' });
  const ev: SourceStateEvent[] = [];
  finite.onState((e) => ev.push(e));
  assert.ok(await finite.read());
  assert.equal(await finite.read(), null);
  assert.equal(ev.at(-1)?.state, 'offline');
  assert.equal(ev.at(-1)?.reason, 'end of input');

  let made = 0;
  const live = new SupervisedSource(
    () => new ScriptedSource(made++ === 0 ? ['frame', 'end'] : ['frame'], true),
    { cameraId: 'l', reconnect: fast },
  );
  assert.equal((await live.read())?.seq, 0);
  assert.equal((await live.read())?.seq, 1, 'end of a live stream means it dropped: reopened');
  assert.equal(made, 2);
  await live.close();
});

test('close() during the backoff wait ends read() with null at once', async () => {
  const sup = new SupervisedSource(() => new ScriptedSource([], true, true), {
    cameraId: 'cam',
    reconnect: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
  });
  const pending = sup.read();
  await new Promise((r) => setImmediate(r));
  await sup.close();
  assert.equal(await pending, null);
});

test('openEagerly: a source read only on demand reports online once opened, or reconnecting when it cannot be', async () => {
  const ok = new SupervisedSource(() => new ScriptedSource(['frame'], false), {
    cameraId: 'trig',
    openEagerly: true,
  });
  const ev: SourceStateEvent[] = [];
  ok.onState((e) => ev.push(e));
  assert.equal(ok.state, 'offline');
  await ok.open();
  assert.equal(ok.state, 'online', 'a trigger camera waiting for its first part is not offline');
  assert.match(ev[0].reason, /opened/);
  assert.ok(await ok.read(), 'the opened source is read without a second open');
  assert.equal(ev.length, 1, 'no further state change');
  await ok.close();

  const bad = new SupervisedSource(() => new ScriptedSource([], false, true), {
    cameraId: 'trig2',
    openEagerly: true,
    reconnect: fast,
  });
  await bad.open();
  assert.equal(bad.state, 'reconnecting');
  await bad.close();

  const lazy = new SupervisedSource(() => new ScriptedSource(['frame'], false), { cameraId: 'lazy' });
  await lazy.open();
  assert.equal(lazy.state, 'offline', 'without openEagerly nothing is opened before the first read');
  await lazy.close();
});
