// Engine selection and fallback, with a TEST DOUBLE for the GPU/TensorRT facts (no GPU or TensorRT
// exists on these machines) and fake engine factories that record which backend was created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, type ModelConfig } from '../../src/config/schema.js';
import type { Bundle } from '../../src/model/bundle.js';
import type { Engine } from '../../src/engines/engine.js';
import { chooseBackend, createEngine, type EngineFactories } from '../../src/engines/select.js';
import { tensorRtUnavailableReason, type TensorRtFacts } from '../../src/engines/probe.js';

/** TEST DOUBLE: the facts a Jetson with everything installed would report. */
function fakeJetsonFacts(): TensorRtFacts {
  return {
    addon: {
      ok: true,
      path: '/fake/node_tensorrt.node',
      build: {
        napiVersion: 8,
        cuda: true,
        cudaArchs: '87',
        cudaToolkit: '12.6',
        tensorrtHeaders: '10.3.0',
        hsf: true,
      },
    },
    tensorrt: { ok: true, version: '10.3.0', library: 'libnvinfer.so.10' },
    cuda: {
      ok: true,
      driverVersion: '12.6',
      devices: [
        {
          index: 0,
          name: 'Orin',
          computeCapability: '8.7',
          totalMemoryBytes: 64e9,
          multiProcessors: 16,
          integrated: true,
        },
      ],
    },
  };
}

function modelConfig(backend: 'auto' | 'onnxruntime' | 'tensorrt'): ModelConfig {
  const cfg = configSchema.parse({
    model: { bundle: '/fake/bundle', engine: { backend } },
    cameras: [{ id: 'cam1', className: 'screw', source: { kind: 'synthetic' } }],
  });
  return cfg.model;
}

const fakeBundle = { dir: '/fake/bundle' } as Bundle;

interface Recorder {
  logs: { level: 'info' | 'warn'; obj: object; msg?: string }[];
  created: string[];
  probed: number;
}

function harness(facts: TensorRtFacts, opts: { tensorrtThrows?: string } = {}) {
  const rec: Recorder = { logs: [], created: [], probed: 0 };
  const fakeEngine = (backend: 'onnxruntime' | 'tensorrt'): Engine =>
    ({ info: { backend, device: 'fake', maxBatch: 1, hsfInputsOn: 'host' } }) as Engine;
  const factories: EngineFactories = {
    async onnxruntime() {
      rec.created.push('onnxruntime');
      return fakeEngine('onnxruntime');
    },
    async tensorrt() {
      if (opts.tensorrtThrows) throw new Error(opts.tensorrtThrows);
      rec.created.push('tensorrt');
      return fakeEngine('tensorrt');
    },
  };
  const logger = {
    info: (obj: object, msg?: string) => rec.logs.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg?: string) => rec.logs.push({ level: 'warn', obj, msg }),
  };
  const probe = () => {
    rec.probed++;
    return facts;
  };
  return { rec, logger, deps: { probe, factories } };
}

function without(part: 'addon' | 'tensorrt' | 'cuda', reason: string): TensorRtFacts {
  return { ...fakeJetsonFacts(), [part]: { ok: false, reason } };
}

test('chooseBackend: TensorRT only when addon, libnvinfer and a CUDA device are all present', () => {
  assert.deepEqual(chooseBackend('auto', fakeJetsonFacts()), { backend: 'tensorrt' });
  assert.deepEqual(chooseBackend('tensorrt', fakeJetsonFacts()), { backend: 'tensorrt' });
  assert.deepEqual(chooseBackend('onnxruntime', fakeJetsonFacts()), { backend: 'onnxruntime' });
  for (const part of ['addon', 'tensorrt', 'cuda'] as const) {
    const reason = `${part} is missing in this double`;
    for (const req of ['auto', 'tensorrt'] as const) {
      assert.deepEqual(chooseBackend(req, without(part, reason)), {
        backend: 'onnxruntime',
        fallback: { from: 'tensorrt', reason },
      });
    }
  }
});

test('tensorRtUnavailableReason names the first missing part (addon, then libnvinfer, then CUDA)', () => {
  assert.equal(tensorRtUnavailableReason(fakeJetsonFacts()), undefined);
  const all: TensorRtFacts = {
    ...fakeJetsonFacts(),
    tensorrt: { ok: false, reason: 'no libnvinfer' },
    cuda: { ok: false, reason: 'no driver' },
  };
  assert.equal(tensorRtUnavailableReason(all), 'no libnvinfer');
  assert.equal(tensorRtUnavailableReason({ ...all, tensorrt: fakeJetsonFacts().tensorrt }), 'no driver');
  assert.equal(tensorRtUnavailableReason({ ...all, addon: { ok: false, reason: 'not built' } }), 'not built');
});

test('auto on a Jetson creates the TensorRT engine and logs no fallback', async () => {
  const h = harness(fakeJetsonFacts());
  const engine = await createEngine(modelConfig('auto'), fakeBundle, h.logger, h.deps);
  assert.equal(engine.info.backend, 'tensorrt');
  assert.deepEqual(h.rec.created, ['tensorrt']);
  assert.equal(h.rec.logs.length, 0);
});

test('backend onnxruntime never probes the GPU', async () => {
  const h = harness(fakeJetsonFacts());
  const engine = await createEngine(modelConfig('onnxruntime'), fakeBundle, h.logger, h.deps);
  assert.equal(engine.info.backend, 'onnxruntime');
  assert.equal(h.rec.probed, 0);
  assert.equal(h.rec.logs.length, 0);
});

for (const [part, reason] of [
  ['addon', 'node-tensorrt addon not built'],
  ['tensorrt', 'TensorRT is not available (cannot load libnvinfer.so.10)'],
  ['cuda', 'no usable CUDA device: CUDA driver version is insufficient'],
] as const) {
  test(`missing ${part}: auto falls back to onnxruntime with one info line naming it`, async () => {
    const h = harness(without(part, reason));
    const engine = await createEngine(modelConfig('auto'), fakeBundle, h.logger, h.deps);
    assert.equal(engine.info.backend, 'onnxruntime');
    assert.deepEqual(h.rec.created, ['onnxruntime']);
    assert.equal(h.rec.logs.length, 1);
    assert.equal(h.rec.logs[0].level, 'info');
    assert.ok(h.rec.logs[0].msg?.includes(reason), h.rec.logs[0].msg);
  });

  test(`missing ${part}: backend tensorrt falls back with one WARNING naming it`, async () => {
    const h = harness(without(part, reason));
    const engine = await createEngine(modelConfig('tensorrt'), fakeBundle, h.logger, h.deps);
    assert.equal(engine.info.backend, 'onnxruntime');
    assert.equal(h.rec.logs.length, 1);
    assert.equal(h.rec.logs[0].level, 'warn');
    assert.ok(h.rec.logs[0].msg?.includes(reason), h.rec.logs[0].msg);
    assert.ok(h.rec.logs[0].msg?.includes('falling back to onnxruntime'));
  });
}

test('a TensorRT engine that cannot be built falls back with one warning carrying the error', async () => {
  const h = harness(fakeJetsonFacts(), { tensorrtThrows: 'trtexec not found (looked at PATH)\nmore detail' });
  const engine = await createEngine(modelConfig('tensorrt'), fakeBundle, h.logger, h.deps);
  assert.equal(engine.info.backend, 'onnxruntime');
  assert.deepEqual(h.rec.created, ['onnxruntime']);
  assert.equal(h.rec.logs.length, 1);
  assert.ok(h.rec.logs[0].msg?.includes('trtexec not found (looked at PATH)'));
  assert.ok(!h.rec.logs[0].msg?.includes('more detail'), 'one line only');
});

test('an onnxruntime failure is not hidden by the selection', async () => {
  const h = harness(without('cuda', 'no GPU'));
  h.deps.factories.onnxruntime = async () => {
    throw new Error('onnxruntime: cannot load model.onnx');
  };
  await assert.rejects(
    createEngine(modelConfig('auto'), fakeBundle, h.logger, h.deps),
    /cannot load model\.onnx/,
  );
});
