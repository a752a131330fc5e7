// The pipeline changed while it runs (a reload): cameras added and removed alone, a changed camera
// replaced under its id, and the model's stages swapped between two batches. A fake engine (a test
// double: no model runs) and real synthetic sources; what each frame went through is recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraSchema, type CameraConfig } from '../../src/config/schema.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { createFakeStages, type FakeDecision, type FakeResult } from '../helpers/fake-pipeline-stages.js';

const settings = { batchDeadlineMs: 2, maxInFlight: 2, shutdownDrainMs: 5000 };

function camera(id: string, source: Record<string, unknown>): CameraConfig {
  return cameraSchema.parse({
    id,
    className: 'screw',
    source,
    admission: { policy: 'keep-all', queueSize: 4 },
  });
}
const endless = (seed: number) => ({ kind: 'synthetic', width: 96, height: 64, fps: 200, seed });
const until = async (what: string, ok: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('a camera added and removed at run time: the others keep their frames in sequence, the removed one loses none it admitted', async () => {
  const published: FakeDecision[] = [];
  const stages = createFakeStages({ engineLatencyMs: 4, onPublish: (d) => void published.push(d) });
  const p = createPipeline({ cameras: [camera('a', endless(1))], settings, maxBatch: 4, stages });
  const captured = new Map<string, number>();
  p.onCaptured((id) => captured.set(id, (captured.get(id) ?? 0) + 1));
  p.start();
  const of = (id: string) => published.filter((d) => d.cameraId === id).map((d) => d.seq);
  await until('frames of a', () => of('a').length >= 10);

  p.addCamera(camera('b', endless(2)));
  await until('frames of b', () => of('b').length >= 10);
  assert.equal(p.cameraStates().b !== undefined, true);
  await p.removeCamera('b');
  // everything b captured was published (keep-all: none dropped), and nothing of b comes after
  const bFrames = of('b');
  assert.equal(bFrames.length, captured.get('b'), 'every frame b captured was inspected');
  assert.deepEqual(
    bFrames,
    bFrames.map((_, i) => i),
    'in capture order, without a gap',
  );
  assert.equal(p.drops.total(), 0);
  assert.equal(p.cameraStates().b, undefined);
  const aBefore = of('a').length;
  await until('more frames of a after the removal', () => of('a').length >= aBefore + 10);
  assert.equal(of('b').length, bFrames.length, 'b is gone');

  await p.stop();
  const a = of('a');
  assert.deepEqual(
    a,
    a.map((_, i) => i),
    "a's frames never stopped nor restarted their numbering",
  );
  assert.throws(() => p.addCamera(camera('c', endless(3))), /stopped/);
});

test('a changed camera is replaced under its id; the pipeline does not end between the two', async () => {
  const published: FakeDecision[] = [];
  const stages = createFakeStages({ engineLatencyMs: 2, onPublish: (d) => void published.push(d) });
  const only = camera('a', endless(1));
  const p = createPipeline({ cameras: [only], settings, maxBatch: 2, stages });
  p.start();
  await until('frames of a', () => published.length >= 5);
  const release = p.hold();
  await p.removeCamera('a');
  const before = published.length;
  let ended = false;
  void p.done.then(() => (ended = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ended, false, 'the pipeline waits for the replacement');
  p.addCamera({ ...only, className: 'nut' });
  release();
  await until('frames of the changed camera', () => published.length >= before + 5);
  await p.stop();
  const after = published.slice(before);
  assert.ok(after.every((d) => d.className === 'nut' && d.cameraId === 'a'));
  assert.equal(after[0].seq, 0, 'a new source: its numbering starts again');
});

test('swapModel: batches begun with the old stages finish with them, the next ones use the new', async () => {
  const published: FakeDecision[] = [];
  const old = createFakeStages({ engineLatencyMs: 15, onPublish: (d) => void published.push(d) });
  // which model's hsf each frame went through, by camera and seq
  const scoredBy = new Map<number, string>();
  const tag = (name: string, stages: typeof old) => ({
    preprocess: stages.preprocess,
    engine: stages.engine,
    hsf: (out: Parameters<typeof stages.hsf>[0], jobs: Parameters<typeof stages.hsf>[1]) => {
      for (const j of jobs) scoredBy.set(j.frame.seq, name);
      return stages.hsf(out, jobs) as FakeResult[];
    },
  });
  const p = createPipeline({
    cameras: [camera('a', endless(1))],
    settings,
    maxBatch: 2,
    stages: { ...old, ...tag('old', old) },
  });
  p.start();
  await until('frames under the old model', () => published.length >= 6);
  const next = createFakeStages({ engineLatencyMs: 1 });
  let retired = false;
  const swapped = p.swapModel(tag('new', next), 3).then(() => (retired = true));
  // a batch was in flight (engine 15 ms, 2 slots): the old stages are not retired at once
  assert.equal(retired, false);
  await swapped;
  const atSwap = published.length;
  await until('frames under the new model', () => published.length >= atSwap + 10);
  await p.stop();
  const order = published.map((d) => scoredBy.get(d.seq));
  const firstNew = order.indexOf('new');
  assert.ok(firstNew > 0, 'some frames before the swap, some after');
  assert.ok(
    order.slice(firstNew).every((m) => m === 'new'),
    'once a frame was scored by the new model, every later one is',
  );
  assert.deepEqual(
    published.map((d) => d.seq),
    published.map((_, i) => i),
    'no frame lost or reordered across the swap',
  );
  assert.equal(p.drops.total(), 0);
});
