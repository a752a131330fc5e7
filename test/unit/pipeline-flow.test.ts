// The pipeline composed with a fake engine (a test double: no model runs here) and real synthetic
// sources: what goes in comes out, or is counted as dropped with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraSchema, type CameraConfig } from '../../src/config/schema.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { createFakeStages, type FakeDecision } from '../../src/pipeline/fake-stages.js';
import type { FrameOutcome } from '../../src/pipeline/stages.js';

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
