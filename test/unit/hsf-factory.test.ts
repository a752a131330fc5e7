// createHsfRunner: the choice of implementation, its log line, and the GPU seam's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHsfRunner,
  describeHsf,
  GpuHsfRunner,
  HsfGpuUnavailableError,
  HsfInputError,
  type HsfAddonBinding,
} from '../../src/hsf/index.js';

function recorder() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  return {
    lines,
    logger: {
      info: (obj: object, msg?: string) => lines.push({ level: 'info', obj, msg }),
      warn: (obj: object, msg?: string) => lines.push({ level: 'warn', obj, msg }),
    },
  };
}

const gpuHere = !describeHsf().gpu.startsWith('GPU HSF unavailable');

test("'cpu' gives the CPU runner and logs the choice", () => {
  const { lines, logger } = recorder();
  assert.equal(createHsfRunner('cpu', logger).kind, 'cpu');
  assert.equal((lines[0].obj as { hsf: string }).hsf, 'cpu');
});

test(
  "'gpu' without a usable addon throws HsfGpuUnavailableError saying why",
  { skip: gpuHere && 'GPU present' },
  () => {
    assert.throws(
      () => createHsfRunner('gpu'),
      (e: Error) => e instanceof HsfGpuUnavailableError && /GPU HSF unavailable: ./.test(e.message),
    );
  },
);

test(
  "'auto' falls back to the CPU with a warning naming the reason",
  { skip: gpuHere && 'GPU present' },
  () => {
    const { lines, logger } = recorder();
    assert.equal(createHsfRunner('auto', logger).kind, 'cpu');
    const warn = lines.find((l) => l.level === 'warn');
    assert.ok(warn && /GPU HSF unavailable/.test((warn.obj as { reason: string }).reason));
  },
);

test('GpuHsfRunner checks input before the native runner (test double: no GPU here)', async () => {
  const calls: number[] = [];
  // FakeHsfBinding: stands in for the node-tensorrt binding, which needs a CUDA device
  const fake: HsfAddonBinding = {
    available: () => true,
    reason: () => '',
    maxTopK: () => 4,
    createRunner: () => ({
      kind: 'gpu',
      run: async (input) => {
        calls.push(input.batch);
        return {
          scores: new Float32Array(input.batch).fill(0.5),
          fused: new Float32Array(input.batch * input.embedDim),
          labels: new Int32Array(input.batch * input.topK),
          clusterFeature: new Float32Array(input.batch * input.embedDim),
        };
      },
    }),
  };
  const runner = new GpuHsfRunner(fake);
  const input = {
    batch: 2,
    topK: 4,
    layers: 1,
    embedDim: 3,
    tokens: new Float32Array(24).fill(0.5),
    globalFeature: new Float32Array(6).fill(0.5),
    textFeatures: new Float32Array(12).fill(0.5),
  };
  const out = await runner.run(input, { kClusters: 2, alpha: 0.2 });
  assert.deepEqual(Array.from(out.scores), [0.5, 0.5]);
  assert.equal(out.clusterFeature?.length, 6);
  await assert.rejects(runner.run(input, { kClusters: 5, alpha: 0.2 }), HsfInputError);
  const five = { ...input, topK: 5, tokens: new Float32Array(30).fill(0.5) };
  await assert.rejects(runner.run(five, { kClusters: 2, alpha: 0.2 }), /at most 4 selected tokens, got 5/);
  assert.deepEqual(calls, [2]);
});
