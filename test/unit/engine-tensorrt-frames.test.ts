// TensorRtEngine with frames (GPU preprocessing): when it takes them, and what it hands the addon.
// TEST DOUBLE: the addon's engine object below records infer() calls and answers in the addon's
// format; the real kernels need a GPU (scripts/gpu-check.sh) and their host build is tested in
// test/integration/preprocess-device-host.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle } from '../../src/model/bundle.js';
import {
  TensorRtEngine,
  type NativeInput,
  type NativeTensorInfo,
  type NodeTensorrtAddon,
} from '../../src/engines/tensorrt.js';
import type { DeviceFrame } from '../../src/preprocess/tensor.js';

const S = 4;
const D = 3;
const K = 2;
const L = 2;
const bundle = {
  manifest: {
    imageSize: S,
    architecture: { embedDim: D },
    normalize: { mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] },
  },
  topK: K,
  layers: L,
} as unknown as Bundle;

function fakeAddon(kernels: boolean, imageDtype: NativeTensorInfo['dtype']) {
  const calls: Record<string, NativeInput>[] = [];
  const io: NativeTensorInfo[] = [
    'image',
    'tokens',
    'anomaly_map',
    'global_feature',
    'text_features',
    'hsf_indices',
    'hsf_tokens',
  ].map((name) => ({
    name,
    mode: name === 'image' || name === 'tokens' ? 'input' : 'output',
    dtype: name === 'image' ? imageDtype : 'float32',
    shape: [-1],
    max: [2],
  }));
  const native = {
    contexts: 1,
    deviceMemoryBytes: 0,
    io: () => io,
    close: () => {},
    async infer(inputs: Record<string, NativeInput>) {
      calls.push(inputs);
      const image = inputs.image;
      const B = 'frames' in image ? image.frames.length : image.shape[0];
      const f = (n: number) => ({ data: new Float32Array(n), dtype: 'float32' });
      return {
        outputs: {
          anomaly_map: { ...f(B * S * S), shape: [B, S, S] },
          global_feature: { ...f(B * D), shape: [B, D] },
          text_features: { ...f(B * 2 * D), shape: [B, 2, D] },
          hsf_indices: { data: new Int32Array(B * K), shape: [B, K], dtype: 'int32' },
          hsf_tokens: { ...f(B * K * L * D), shape: [B, K, L, D] },
        },
      };
    },
  };
  const addon = {
    openEngine: async () => native,
    preprocess: kernels ? { available: () => true, reason: () => '' } : undefined,
  } as unknown as NodeTensorrtAddon;
  return { addon, calls };
}

const frame = (i: number): DeviceFrame => ({ data: new Uint8Array(12).fill(i), width: 2, height: 2 });
const tokens = (B: number) => new BigInt64Array(B * 1 * 5);

test('frames go to the addon with S and the bundle normalisation, split at the engine batch limit', async () => {
  const { addon, calls } = fakeAddon(true, 'float32');
  const engine = await TensorRtEngine.open(addon, bundle, {
    enginePath: 'x.plan',
    maxBatch: 2,
    deviceLabel: 'test',
  });
  assert.equal(engine.info.takesFrames, true);
  const frames = [frame(1), frame(2), frame(3)];
  const out = await engine.run({
    images: new Float32Array(0),
    frames,
    tokens: tokens(3),
    batch: 3,
    sentences: 1,
    context: 5,
  });
  assert.equal(out.batch, 3);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0].image, {
    frames: frames.slice(0, 2),
    size: S,
    mean: [0.1, 0.2, 0.3],
    std: [0.4, 0.5, 0.6],
  });
  assert.deepEqual(calls[1].image, {
    frames: frames.slice(2),
    size: S,
    mean: [0.1, 0.2, 0.3],
    std: [0.4, 0.5, 0.6],
  });
  // images still work on the same engine
  await engine.run({
    images: new Float32Array(3 * S * S),
    tokens: tokens(1),
    batch: 1,
    sentences: 1,
    context: 5,
  });
  assert.deepEqual((calls[2].image as { shape: number[] }).shape, [1, 3, S, S]);
});

test('no kernels, or an int8 image input: the engine takes images only and refuses frames', async () => {
  for (const [kernels, dtype] of [
    [false, 'float32'],
    [true, 'int8'],
  ] as const) {
    const { addon } = fakeAddon(kernels, dtype);
    const engine = await TensorRtEngine.open(addon, bundle, {
      enginePath: 'x.plan',
      maxBatch: 2,
      deviceLabel: 'test',
    });
    assert.equal(engine.info.takesFrames, false);
    await assert.rejects(
      engine.run({
        images: new Float32Array(0),
        frames: [frame(1)],
        tokens: tokens(1),
        batch: 1,
        sentences: 1,
        context: 5,
      }),
      /takes preprocessed images, not frames/,
    );
  }
});

test('a frame count that does not match the batch is an input error', async () => {
  const { addon } = fakeAddon(true, 'float16');
  const engine = await TensorRtEngine.open(addon, bundle, {
    enginePath: 'x.plan',
    maxBatch: 2,
    deviceLabel: 'test',
  });
  await assert.rejects(
    engine.run({
      images: new Float32Array(0),
      frames: [frame(1)],
      tokens: tokens(2),
      batch: 2,
      sentences: 1,
      context: 5,
    }),
    /1 frames for a batch of 2/,
  );
});
