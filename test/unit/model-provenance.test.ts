// The provenance kind synthetic-trained (a demo model trained on the synthetic line only, issue 11):
// the manifest carries its training record's facts and refuses them on any other kind; events and
// results carry the kind, untrained false and the training with its note, and both published JSON
// Schemas (Ajv) and the zod schemas accept that and refuse a half of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildEvent, EventError, validateEvent, type EventInput } from '../../src/events/anomaly-event.js';
import { errorResult, validateInspectionResult } from '../../src/events/inspection-result.js';
import { provenanceFromManifest, type ModelProvenance } from '../../src/events/provenance.js';
import { demoModelLine, demoNoteOf, trainingSummary } from '../../src/model/demo-note.js';
import { manifestSchema, type Manifest } from '../../src/model/manifest.js';
import { ROOT } from '../helpers/fixtures.js';

const NOTE = 'trained on the synthetic line only, not the released AdaCLIP weights';
const SHA = (c: string) => c.repeat(64);

const TRAINING = {
  record: 'demo-synthetic.json',
  sha256: SHA('7'),
  note: NOTE,
  kinds: ['nut', 'screw'],
  trainSeeds: [1, 2],
  steps: 600,
  seconds: { training: 1134.2, wall: 1160.9, cpu: 2250.4 },
};

function manifest(provenance: Record<string, unknown>): Record<string, unknown> {
  return {
    format: 'adaclip-edge-bundle',
    formatVersion: 1,
    architecture: {
      name: 'demo',
      embedDim: 64,
      vision: { width: 96, layers: 4, heads: 3, patchSize: 14, nativeImageSize: 224 },
      text: { width: 64, layers: 4, heads: 2, contextLength: 77, vocabSize: 514 },
      activation: 'quick_gelu',
    },
    imageSize: 224,
    grid: 16,
    normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    adaclip: {
      promptDepth: 4,
      promptLength: 5,
      promptType: 'SD',
      promptBranch: 'VL',
      outputLayers: [1, 2, 3, 4],
    },
    hsf: { kClusters: 20, topK: 100, alpha: 0.2 },
    prompts: { normalStates: ['{}'], abnormalStates: ['damaged {}'], templates: ['a photo of {}.'] },
    tokenizer: { vocab: 'vocab_bytes_only.txt.gz', sot: 512, eot: 513, bytesOnly: true },
    onnx: { file: 'model.onnx', opset: 17, inputs: [], outputs: [] },
    files: { 'model.onnx': { sha256: SHA('a'), bytes: 1000 } },
    provenance: {
      exporter: 'adaclip-edge-exporter 1.0 (test)',
      createdAt: '2026-01-01T00:00:00Z',
      ...provenance,
    },
  };
}

const CHECKPOINTS = {
  clip: { file: 'demo-synthetic-clip.pt', sha256: SHA('c') },
  adaclip: { file: 'demo-synthetic-adaclip.pt', sha256: SHA('d') },
};
const synthetic = () =>
  manifestSchema.parse(manifest({ kind: 'synthetic-trained', ...CHECKPOINTS, training: TRAINING }));

const schemaOf = (file: string) => JSON.parse(readFileSync(join(ROOT, 'src/events', file), 'utf8'));
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: true });
(addFormats as unknown as (a: unknown) => void)(ajv);
const validateEventJson = ajv.compile(schemaOf('anomaly-event.schema.json'));
const validateResultJson = ajv.compile(schemaOf('inspection-result.schema.json'));

function eventInput(model: ModelProvenance): EventInput {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5);
  return {
    transition: 'raise',
    active: true,
    site: 'plant1',
    line: 'lineA',
    cameraId: 'cam1',
    frameSeq: 1,
    capturedAtWall: at,
    decidedAtWall: at + 40,
    className: 'screw',
    score: 0.9,
    scoreWithoutHsf: 0.85,
    thresholds: { image: 0.5, pixel: 0.5, clear: 0.5, minRegionAreaPct: 0.05 },
    anomalous: true,
    severity: 'warning',
    alarm: { raisedAtWall: at, peakScore: 0.9, frames: 1 },
    window: { k: 1, n: 1, hits: 1 },
    regions: [],
    regionCount: 0,
    model,
  };
}

test('manifest: synthetic-trained parses with its training record; the note is the demo note', () => {
  const m = synthetic();
  assert.equal(m.provenance.kind, 'synthetic-trained');
  assert.deepEqual(m.provenance.training, TRAINING);
  assert.equal(demoNoteOf(m.provenance), NOTE);
  assert.equal(demoModelLine(NOTE), `Demo model: ${NOTE}`);
  assert.equal(trainingSummary(TRAINING), 'trained on nut, screw (synth seeds 1, 2), 600 steps in 1134 s');
  // the other kinds have no note
  const untrained = manifestSchema.parse(manifest({ kind: 'untrained-test', seed: 0 }));
  assert.equal(demoNoteOf(untrained.provenance), undefined);
  const checkpoint = manifestSchema.parse(manifest({ kind: 'checkpoint', ...CHECKPOINTS }));
  assert.equal(demoNoteOf(checkpoint.provenance), undefined);
});

test('manifest: synthetic-trained without its record or checkpoints, or a record on another kind, is refused', () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['no training', { kind: 'synthetic-trained', ...CHECKPOINTS }, /training record/],
    ['no checkpoints', { kind: 'synthetic-trained', training: TRAINING }, /clip and adaclip/],
    ['training on untrained-test', { kind: 'untrained-test', training: TRAINING }, /only for kind/],
    ['training on checkpoint', { kind: 'checkpoint', ...CHECKPOINTS, training: TRAINING }, /only for kind/],
    [
      'empty kinds',
      { kind: 'synthetic-trained', ...CHECKPOINTS, training: { ...TRAINING, kinds: [] } },
      /kinds/,
    ],
    [
      'bad record hash',
      { kind: 'synthetic-trained', ...CHECKPOINTS, training: { ...TRAINING, sha256: 'x' } },
      /sha256/,
    ],
    ['unknown kind', { kind: 'pretrained' }, /kind/],
  ];
  for (const [why, provenance, message] of refused) {
    const r = manifestSchema.safeParse(manifest(provenance));
    assert.equal(r.success, false, `accepted: ${why}`);
    const text = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    assert.match(text, message, why);
  }
});

test('events and results: synthetic-trained carries its training and note, untrained false (Ajv and zod)', () => {
  const m = synthetic();
  const model = provenanceFromManifest(m as Manifest, { hsf: true });
  assert.equal(model.kind, 'synthetic-trained');
  assert.equal(model.untrained, false);
  assert.deepEqual(model.training, {
    note: NOTE,
    kinds: ['nut', 'screw'],
    trainSeeds: [1, 2],
    steps: 600,
    trainingSeconds: 1134.2,
    recordSha256: SHA('7'),
  });
  assert.deepEqual(model.checkpoints, CHECKPOINTS);
  const event = JSON.parse(JSON.stringify(buildEvent(eventInput(model))));
  assert.equal(event.schemaVersion, '1.2');
  assert.equal(event.model.training.note, NOTE);
  assert.equal(validateEventJson(event), true, JSON.stringify(validateEventJson.errors));
  const result = JSON.parse(
    JSON.stringify(
      errorResult(
        { site: 'plant1', line: 'lineA', model },
        { cameraId: 'press', triggerId: 't1', triggeredAtWall: Date.UTC(2026, 0, 2) },
        {
          reason: 'engine-error',
          detail: 'test',
          className: 'screw',
          decidedAtWall: Date.UTC(2026, 0, 2, 0, 0, 1),
        },
      ),
    ),
  );
  assert.equal(result.schemaVersion, '1.2');
  assert.equal(result.model.kind, 'synthetic-trained');
  assert.equal(validateResultJson(result), true, JSON.stringify(validateResultJson.errors));
  validateInspectionResult(result);

  // the other kinds carry no training
  const untrained = provenanceFromManifest(
    manifestSchema.parse(manifest({ kind: 'untrained-test', seed: 0 })) as Manifest,
    { hsf: true },
  );
  assert.equal(untrained.untrained, true);
  assert.equal('training' in untrained, false);
  const plain = JSON.parse(JSON.stringify(buildEvent(eventInput(untrained))));
  assert.equal(validateEventJson(plain), true, JSON.stringify(validateEventJson.errors));

  // half of it is refused by both schemas
  const broken: [string, Record<string, unknown>][] = [
    ['synthetic-trained without training', { ...event.model, training: undefined }],
    ['training on untrained-test', { ...plain.model, training: event.model.training }],
    ['training without its note', { ...event.model, training: { ...event.model.training, note: undefined } }],
  ];
  for (const [why, brokenModel] of broken) {
    const doc = JSON.parse(JSON.stringify({ ...event, model: brokenModel }));
    assert.equal(validateEventJson(doc), false, `Ajv accepted the event: ${why}`);
    assert.throws(() => validateEvent(doc), EventError, `zod accepted the event: ${why}`);
    const res = JSON.parse(JSON.stringify({ ...result, model: brokenModel }));
    assert.equal(validateResultJson(res), false, `Ajv accepted the result: ${why}`);
    assert.throws(() => validateInspectionResult(res), EventError, `zod accepted the result: ${why}`);
  }
});
