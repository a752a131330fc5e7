// The pipeline composed with a fake engine (a test double: no model runs here) and real synthetic
// sources: what goes in comes out, or is counted as dropped with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraSchema, type CameraConfig } from '../../src/config/schema.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { createFakeStages, type FakeDecision } from '../helpers/fake-pipeline-stages.js';
import type { FrameOutcome } from '../../src/pipeline/stages.js';
import { SupervisedSource } from '../../src/sources/supervisor.js';
import { SyntheticSource } from '../../src/sources/synthetic.js';
import { TriggerSource, type TriggerRef } from '../../src/sources/trigger.js';
import type { Frame } from '../../src/sources/frame.js';
import type { FrameSource } from '../../src/sources/source.js';
import type { DropReason } from '../../src/admit/drop-reasons.js';

const settings = { batchDeadlineMs: 5, maxInFlight: 1, shutdownDrainMs: 2000 };

function camera(
  id: string,
  source: Record<string, unknown>,
  admission: Record<string, unknown> = {},
): CameraConfig {
  return cameraSchema.parse({ id, className: 'screw', source, admission });
}

test('keep-all: every frame of a finite synthetic camera is decided, in order, nothing dropped', async () => {
  const published: FakeDecision[] = [];
  const stages = createFakeStages({ engineLatencyMs: 3, onPublish: (d) => void published.push(d) });
  const cam = camera(
    'c1',
    { kind: 'synthetic', width: 96, height: 64, fps: 200, frames: 25, defectRate: 0.5 },
    {
      policy: 'keep-all',
      queueSize: 3,
    },
  );
  const p = createPipeline({ cameras: [cam], settings, maxBatch: 4, stages });
  p.start();
  await p.done;
  assert.deepEqual(
    published.map((d) => d.seq),
    Array.from({ length: 25 }, (_, i) => i),
  );
  assert.equal(p.drops.total(), 0);
  assert.equal(p.stats().processed, 25);
});

test('latest-wins with an engine slower than the camera: queues stay bounded, every frame is accounted for', async () => {
  const outcomes: FrameOutcome<FakeDecision>[] = [];
  let maxQueued = 0;
  const stages = createFakeStages({ engineLatencyMs: 40 });
  const cams = ['a', 'b'].map((id) =>
    camera(
      id,
      { kind: 'synthetic', width: 96, height: 64, fps: 100, frames: 60 },
      { policy: 'latest', queueSize: 2 },
    ),
  );
  const p = createPipeline({ cameras: cams, settings, maxBatch: 2, stages });
  p.onResult((o) => outcomes.push(o));
  const poll = setInterval(() => {
    for (const n of Object.values(p.stats().queued)) maxQueued = Math.max(maxQueued, n);
  }, 2);
  p.start();
  await p.done;
  clearInterval(poll);
  assert.ok(maxQueued <= 2, `a queue held ${maxQueued} frames, more than its size 2`);
  for (const id of ['a', 'b']) {
    const mine = outcomes.filter((o) => o.cameraId === id);
    const dropped = p.drops.counts(id);
    assert.ok(dropped['replaced-by-newer'] > 0, `camera ${id}: expected frames replaced by newer ones`);
    const accounted = mine.length + dropped['replaced-by-newer'] + dropped.stale;
    assert.equal(
      accounted,
      60,
      `camera ${id}: ${mine.length} decided + drops must equal the 60 frames captured`,
    );
    const seqs = mine.map((o) => o.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'decisions come in capture order',
    );
  }
  assert.ok(stages.maxEngineInFlight <= 1, 'never more engine calls than maxInFlight');
});

test('a frame that fails preprocessing or a batch that fails in the engine is counted and skipped; the rest goes on', async () => {
  const published: number[] = [];
  const stages = createFakeStages({
    failPreprocess: (f) => f.seq % 5 === 2,
    failEngine: (jobs) => jobs.some((j) => j.frame.seq === 8),
    onPublish: (d) => void published.push(d.seq),
  });
  const cam = camera(
    'c',
    { kind: 'synthetic', width: 96, height: 64, fps: 240, frames: 20 },
    { policy: 'keep-all' },
  );
  // maxBatch 1: the engine failure takes exactly frame 8 with it
  const p = createPipeline({ cameras: [cam], settings, maxBatch: 1, stages });
  p.start();
  await p.done;
  const expected = Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 5 !== 2 && i !== 8);
  assert.deepEqual(published, expected);
  assert.equal(p.drops.counts('c')['preprocess-error'], 4);
  assert.equal(p.drops.counts('c')['engine-error'], 1);
});

test('every-nth on a paused source inspects frames 0, N, 2N and counts the rest', async () => {
  const published: number[] = [];
  const stages = createFakeStages({ onPublish: (d) => void published.push(d.seq) });
  const cam = camera('c', { kind: 'synthetic' }, { policy: 'every-nth', everyNth: 4, queueSize: 2 });
  // an unpaced synthetic line: frames come as fast as read, like a folder, so nothing is replaced
  const supervised = new SupervisedSource(
    () =>
      new SyntheticSource({
        width: 64,
        height: 64,
        fps: 1,
        defectRate: 0,
        seed: 1,
        frames: 17,
        unpaced: true,
      }),
    { cameraId: 'c' },
  );
  const source = {
    source: supervised,
    state: supervised.state,
    onState: supervised.onState.bind(supervised),
  };
  const p = createPipeline({ cameras: [cam], settings, maxBatch: 2, stages, createSource: () => source });
  p.start();
  await p.done;
  assert.deepEqual(published, [0, 4, 8, 12, 16]);
  assert.equal(p.drops.counts('c')['every-nth'], 12);
  assert.equal(p.drops.total(), 12);
});

test('frames from several cameras share engine batches; engine calls never exceed maxInFlight', async () => {
  const sizes: number[] = [];
  const stages = createFakeStages({ engineLatencyMs: 15, onEngineCall: (b) => sizes.push(b) });
  const cams = ['a', 'b', 'c', 'd'].map((id) =>
    camera(
      id,
      { kind: 'synthetic', width: 64, height: 64, fps: 240, frames: 12 },
      { policy: 'keep-all', queueSize: 4 },
    ),
  );
  const p = createPipeline({
    cameras: cams,
    settings: { ...settings, maxInFlight: 2, batchDeadlineMs: 20 },
    maxBatch: 4,
    stages,
  });
  const perCamera = new Map<string, number[]>();
  p.onResult((o) => perCamera.set(o.cameraId, [...(perCamera.get(o.cameraId) ?? []), o.seq]));
  p.start();
  await p.done;
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    48,
  );
  assert.ok(Math.max(...sizes) > 1, `expected multi-camera batches, got sizes ${sizes}`);
  assert.ok(Math.max(...sizes) <= 4, 'never more than maxBatch');
  assert.ok(stages.maxEngineInFlight <= 2, `engine calls in flight reached ${stages.maxEngineInFlight}`);
  for (const id of ['a', 'b', 'c', 'd'])
    assert.deepEqual(
      perCamera.get(id),
      Array.from({ length: 12 }, (_, i) => i),
    );
});

test('stop() drains what was admitted; with an engine that does not return it gives up after shutdownDrainMs', async () => {
  const quick = createFakeStages({ engineLatencyMs: 5 });
  const live = camera('c', { kind: 'synthetic', width: 64, height: 64, fps: 50 }, { policy: 'latest' });
  const p1 = createPipeline({ cameras: [live], settings, maxBatch: 2, stages: quick });
  let n = 0;
  p1.onResult(() => n++);
  p1.start();
  while (n < 3) await new Promise((r) => setTimeout(r, 5));
  const r1 = await p1.stop();
  assert.deepEqual(r1, { drained: true, abandoned: 0 });
  await p1.done;

  const stuck = createFakeStages({ engineLatencyMs: Infinity });
  const p2 = createPipeline({
    cameras: [camera('s', { kind: 'synthetic', width: 64, height: 64, fps: 50 }, { policy: 'latest' })],
    settings: { ...settings, shutdownDrainMs: 50 },
    maxBatch: 2,
    stages: stuck,
  });
  p2.start();
  while (stuck.engineInFlight === 0) await new Promise((r) => setTimeout(r, 5));
  const r2 = await p2.stop();
  assert.equal(r2.drained, false);
  assert.ok(r2.abandoned >= 1);
  assert.equal(p2.drops.counts('s').shutdown, r2.abandoned);
  await p2.done;
});

test('trigger cameras: pipeline.trigger() yields one decision per part, carrying the part id', async () => {
  const decided: (string | undefined)[] = [];
  const stages = createFakeStages({ onPublish: (d) => void decided.push(d.partId) });
  const cam = camera(
    't',
    { kind: 'trigger', inner: { kind: 'synthetic', width: 64, height: 64, fps: 100 } },
    { policy: 'keep-all' },
  );
  const p = createPipeline({ cameras: [cam], settings, maxBatch: 2, stages });
  p.start();
  const ids = ['P-1', 'P-2', 'P-3'].map((part) => p.trigger('t', part));
  assert.equal(new Set(ids).size, 3);
  while (decided.length < 3) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(decided, ['P-1', 'P-2', 'P-3']);
  assert.throws(() => p.trigger('nope'), /no camera "nope"/);
  await p.stop();
  const q = createPipeline({
    cameras: [camera('x', { kind: 'synthetic', width: 64, height: 64 })],
    settings,
    maxBatch: 1,
    stages,
  });
  assert.throws(() => q.trigger('x'), /not a trigger camera/);
  await q.stop();
});

test('a suspended real-time camera: frames are read (counted as captured) but dropped as "suspended"; resume inspects again', async () => {
  const published: FakeDecision[] = [];
  const captured: string[] = [];
  const stages = createFakeStages({ engineLatencyMs: 1, onPublish: (d) => void published.push(d) });
  const cam = camera(
    'rt',
    { kind: 'synthetic', width: 96, height: 64, fps: 100, frames: 40 },
    { queueSize: 50, staleMs: 60000 },
  );
  const p = createPipeline({ cameras: [cam], settings, maxBatch: 4, stages });
  p.onCaptured((id) => captured.push(id));
  p.setSuspended('rt', true);
  p.start();
  while (captured.length < 10) await new Promise((r) => setTimeout(r, 5));
  p.setSuspended('rt', false);
  await p.done;
  const dropped = p.drops.counts('rt');
  assert.equal(captured.length, 40, 'every frame is read from the camera');
  assert.ok(
    dropped.suspended >= 10,
    `at least the first 10 frames dropped as suspended, got ${dropped.suspended}`,
  );
  assert.equal(published.length + dropped.suspended, 40, 'every frame is inspected or dropped as suspended');
  assert.ok(published.length > 0, 'frames are inspected again after resume');
  assert.throws(() => p.setSuspended('nope', true), /no camera "nope"/);
});

test('a suspended folder-like camera (not real-time) is paused, losing nothing', async () => {
  const published: FakeDecision[] = [];
  const stages = createFakeStages({ engineLatencyMs: 1, onPublish: (d) => void published.push(d) });
  // unpaced synthetic: frames come as fast as read, like a folder without fps
  const cam = camera(
    'f',
    { kind: 'synthetic', width: 96, height: 64, fps: 100, frames: 12 },
    { policy: 'keep-all' },
  );
  const p = createPipeline({
    cameras: [cam],
    settings,
    maxBatch: 4,
    stages,
    createSource: (c) => {
      const sup = new SupervisedSource(
        () =>
          new SyntheticSource({
            width: 96,
            height: 64,
            fps: 100,
            defectRate: 0,
            seed: 1,
            frames: 12,
            unpaced: true,
          }),
        { cameraId: c.id },
      );
      return {
        source: sup,
        get state() {
          return sup.state;
        },
        onState: (l) => sup.onState(l),
      };
    },
  });
  p.setSuspended('f', true);
  p.start();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(published.length, 0, 'nothing is read or inspected while suspended');
  p.setSuspended('f', false);
  await p.done;
  assert.equal(published.length, 12);
  assert.equal(p.drops.total(), 0);
});

test('a dropped frame of a part names its trigger', async () => {
  const stages = createFakeStages({ engineLatencyMs: 1, failPreprocess: (f) => f.partId === 'bad' });
  const cam = camera('t', { kind: 'trigger', inner: { kind: 'synthetic', width: 96, height: 64, fps: 200 } });
  const p = createPipeline({ cameras: [cam], settings, maxBatch: 1, stages });
  const drops: { reason: string; triggerId?: string; partId?: string }[] = [];
  p.drops.onDrop((e) => drops.push({ reason: e.reason, triggerId: e.triggerId, partId: e.partId }));
  p.start();
  const id = p.trigger('t', 'bad');
  while (drops.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(drops, [{ reason: 'preprocess-error', triggerId: id, partId: 'bad' }]);
  await p.stop();
});

test('a trigger with no frame in time is a "trigger-timeout" drop naming it; one waiting at stop a "shutdown" drop', async () => {
  // TEST DOUBLE: a camera that never delivers (no camera can be unplugged here); close ends a read
  let endRead: (() => void) | undefined;
  const dead: FrameSource = {
    realtime: true,
    live: false,
    open: async () => undefined,
    read: () => new Promise<Frame | null>((resolve) => (endRead = () => resolve(null))),
    close: async () => endRead?.(),
  };
  const listeners: ((reason: DropReason, detail?: string, t?: TriggerRef) => void)[] = [];
  const trig = new TriggerSource(dead, {
    captureTimeoutMs: 30,
    onUnanswered: (t, reason, detail) => listeners.forEach((l) => l(reason, detail, t)),
  });
  const cam = camera('t2', { kind: 'trigger', inner: { kind: 'synthetic' } });
  const p = createPipeline({
    cameras: [cam],
    settings,
    maxBatch: 1,
    stages: createFakeStages(),
    createSource: () => ({
      source: trig,
      state: 'online',
      onState: () => () => undefined,
      onDropped: (l) => void listeners.push(l),
      trigger: (partId) => trig.trigger(partId),
    }),
  });
  const drops: { reason: string; triggerId?: string; partId?: string; detail?: string }[] = [];
  p.drops.onDrop((e) =>
    drops.push({ reason: e.reason, triggerId: e.triggerId, partId: e.partId, detail: e.detail }),
  );
  p.start();
  const first = p.trigger('t2', 'x');
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(drops.length, 1);
  assert.equal(drops[0].reason, 'trigger-timeout');
  assert.equal(drops[0].triggerId, first);
  assert.equal(drops[0].partId, 'x');
  assert.match(drops[0].detail!, /no frame within 30 ms/);
  const second = p.trigger('t2', 'y');
  await p.stop();
  assert.deepEqual(
    drops.slice(1).map((d) => [d.reason, d.triggerId, d.partId]),
    [['shutdown', second, 'y']],
  );
  assert.equal(p.drops.counts('t2')['trigger-timeout'], 1);
});
