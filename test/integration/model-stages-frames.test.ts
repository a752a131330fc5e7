// The service's model stages with an engine that preprocesses on the GPU (EngineInfo.takesFrames):
// the preprocess stage hands the frame's bytes and view on, and the engine call carries the frames
// instead of a tensor; with an engine that does not take frames, the CPU tensor goes as before.
// TEST DOUBLE: the engine below records run() and returns zeros (the real one needs a GPU); the
// bundle is the demo's untrained one that setup exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CameraConfig } from '../../src/config/schema.js';
import type { Engine, EngineInput, EngineOutput } from '../../src/engines/engine.js';
import { loadBundle } from '../../src/model/bundle.js';
import { Preprocessor } from '../../src/preprocess/preprocess.js';
import { ModelStages } from '../../src/service/model-stages.js';
import type { Frame } from '../../src/sources/frame.js';
import type { FrameJob } from '../../src/pipeline/stages.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { ROOT } from '../helpers/fixtures.js';

const cv = loadOpenCV();
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');

function recordingEngine(takesFrames: boolean, S: number, D: number, K: number, L: number) {
  const runs: EngineInput[] = [];
  const engine = {
    info: { backend: 'tensorrt', device: 'test double', maxBatch: 4, hsfInputsOn: 'host', takesFrames },
    async run(input: EngineInput): Promise<EngineOutput> {
      runs.push(input);
      const B = input.batch;
      return {
        batch: B,
        imageSize: S,
        embedDim: D,
        topK: K,
        layers: L,
        anomalyMap: new Float32Array(B * S * S),
        globalFeature: new Float32Array(B * D).fill(1),
        textFeatures: new Float32Array(B * 2 * D).fill(1),
        hsfIndices: new Int32Array(B * K),
        hsfTokens: new Float32Array(B * K * L * D),
      };
    },
    close: async () => {},
  };
  return { engine, runs };
}

function frame(seq: number): Frame {
  const buf = Buffer.alloc(40 * 30 * 3, seq * 17);
  return {
    cameraId: 'cam1',
    seq,
    capturedAtMono: 0,
    capturedAtWall: 0,
    image: new cv.Mat(buf, 30, 40, cv.CV_8UC3),
  };
}

const camera = {
  id: 'cam1',
  rotate: 90,
  roi: { x: 2, y: 3, width: 20, height: 30 },
} as unknown as CameraConfig;
/** ModelStages over the demo bundle and a recording engine that takes frames or not. */
async function stagesWith(takesFrames: boolean) {
  const bundle = await loadBundle(BUNDLE);
  const m = bundle.manifest;
  const { engine, runs } = recordingEngine(
    takesFrames,
    m.imageSize,
    m.architecture.embedDim,
    bundle.topK,
    bundle.layers,
  );
  return { stages: new ModelStages(bundle, engine as unknown as Engine, undefined, () => 'screw'), runs, m };
}

const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ frame: frame(i) }) as FrameJob);

test('an engine that takes frames gets the frames and their views, no CPU tensor', async () => {
  const { stages, runs } = await stagesWith(true);
  const tensors = [0, 1].map((i) => stages.preprocess(frame(i), camera));
  for (const t of tensors) {
    assert.equal(t.data.length, 0);
    assert.equal(t.frame?.width, 40);
    assert.equal(t.frame?.rotate, 90);
    assert.deepEqual(t.frame?.roi, { x: 2, y: 3, width: 20, height: 30 });
    assert.deepEqual(t.source, {
      width: 40,
      height: 30,
      rotate: 90,
      roi: { x: 2, y: 3, width: 20, height: 30 },
    });
  }
  const out = await stages.engineRun(tensors, jobs(2));
  assert.equal(runs.length, 1);
  assert.equal(runs[0].images.length, 0);
  assert.deepEqual(runs[0].frames, [tensors[0].frame, tensors[1].frame]);
  assert.equal(runs[0].frames![1].data[0], 17);
  assert.equal(out.out.batch, 2);
});

test('an engine that does not take frames gets the CPU path tensors, packed', async () => {
  const { stages, runs, m } = await stagesWith(false);
  const tensors = [0, 1].map((i) => stages.preprocess(frame(i), camera));
  const want = new Preprocessor({ size: m.imageSize, mean: m.normalize.mean, std: m.normalize.std });
  assert.deepEqual(tensors[1].data, want.frame(frame(1).image, camera).data);
  await stages.engineRun(tensors, jobs(2));
  assert.equal(runs[0].frames, undefined);
  assert.equal(runs[0].images.length, 2 * 3 * m.imageSize * m.imageSize);
});
