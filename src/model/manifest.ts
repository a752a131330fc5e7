// manifest.json of a model bundle: the contract between models/export/export.py (writer) and the
// service (reader). docs/model-bundle.md explains every field. Bump formatVersion on any breaking change.
import { z } from 'zod';

const tensorSpec = z.object({
  name: z.string(),
  dtype: z.enum(['float32', 'float16', 'int64', 'int32']),
  /** Symbolic dims are strings ("batch", "context"); fixed dims are numbers. */
  shape: z.array(z.union([z.number().int().nonnegative(), z.string()])),
});

/**
 * What made the weights: `checkpoint` (released AdaCLIP and CLIP checkpoints), `synthetic-trained`
 * (models/train/train.py on `adaclip-edge synth` frames only: a demo model of the synthetic line) or
 * `untrained-test` (seeded random weights: scores mean nothing).
 */
export const PROVENANCE_KINDS = ['checkpoint', 'synthetic-trained', 'untrained-test'] as const;
export type ProvenanceKind = (typeof PROVENANCE_KINDS)[number];

/** What a synthetic-trained bundle was trained on, from the training record (train.py OUT/NAME.json). */
export const trainingSchema = z.object({
  record: z.string().min(1).describe('file name of the training record the exporter read'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('sha256 of the training record'),
  note: z.string().min(1).describe('what the model is, said wherever the model is shown'),
  kinds: z.array(z.string().min(1)).min(1).describe('the part kinds it was trained on'),
  trainSeeds: z
    .array(z.number().int())
    .min(1)
    .describe('the `adaclip-edge synth` seeds of its training data'),
  steps: z.number().int().positive().describe('optimiser steps, both stages'),
  seconds: z
    .object({
      training: z.number().nonnegative(),
      wall: z.number().nonnegative().optional(),
      cpu: z.number().nonnegative().optional(),
    })
    .describe("the training record's times: the training loop, the whole run, its CPU time"),
});
export type Training = z.infer<typeof trainingSchema>;

const fileEntry = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});

export const manifestSchema = z.object({
  format: z.literal('adaclip-edge-bundle'),
  formatVersion: z.literal(1),
  version: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/, '1 to 64 printable characters without spaces')
    .optional()
    .describe('the model version this bundle is released as (export.py --bundle-version)'),
  architecture: z.object({
    name: z.string(),
    embedDim: z.number().int().positive(),
    vision: z.object({
      width: z.number().int().positive(),
      layers: z.number().int().positive(),
      heads: z.number().int().positive(),
      patchSize: z.number().int().positive(),
      nativeImageSize: z.number().int().positive(),
    }),
    text: z.object({
      width: z.number().int().positive(),
      layers: z.number().int().positive(),
      heads: z.number().int().positive(),
      contextLength: z.number().int().positive(),
      vocabSize: z.number().int().positive(),
    }),
    activation: z.enum(['gelu', 'quick_gelu']),
  }),
  imageSize: z.number().int().positive(),
  grid: z.number().int().positive(),
  normalize: z.object({ mean: z.array(z.number()).length(3), std: z.array(z.number()).length(3) }),
  adaclip: z.object({
    promptDepth: z.number().int().nonnegative(),
    promptLength: z.number().int().nonnegative(),
    promptType: z.enum(['S', 'D', 'SD']),
    promptBranch: z.enum(['V', 'L', 'VL']),
    outputLayers: z.array(z.number().int().positive()).min(1),
  }),
  hsf: z.object({
    kClusters: z.number().int().positive(),
    topK: z.number().int().positive(),
    alpha: z.number().min(0).max(1),
  }),
  prompts: z.object({
    normalStates: z.array(z.string()).min(1),
    abnormalStates: z.array(z.string()).min(1),
    templates: z.array(z.string()).min(1),
  }),
  tokenizer: z.object({
    vocab: z.string().describe('file name of the gzipped BPE merges inside the bundle'),
    sot: z.number().int().nonnegative(),
    eot: z.number().int().nonnegative(),
    bytesOnly: z
      .boolean()
      .describe('true for a vocabulary without merges (the demo bundles: untrained-test, synthetic-trained)'),
  }),
  onnx: z.object({
    file: z.string(),
    opset: z.number().int().min(17),
    inputs: z.array(tensorSpec),
    outputs: z.array(tensorSpec),
  }),
  files: z.record(z.string(), fileEntry),
  provenance: z
    .object({
      kind: z.enum(PROVENANCE_KINDS),
      clip: z.object({ file: z.string(), sha256: z.string() }).optional(),
      adaclip: z.object({ file: z.string(), sha256: z.string() }).optional(),
      exporter: z.string(),
      createdAt: z.string(),
      seed: z.number().int().optional(),
      training: trainingSchema.optional(),
    })
    .superRefine((p, ctx) => {
      const say = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
      if (p.kind === 'synthetic-trained') {
        if (!p.training) say('a synthetic-trained bundle must carry its training record', ['training']);
        if (!p.clip || !p.adaclip)
          say('a synthetic-trained bundle must name its clip and adaclip checkpoint files', ['kind']);
      } else if (p.training) say(`training is only for kind synthetic-trained, not ${p.kind}`, ['training']);
    }),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** ONNX input and output names, fixed by docs/model-bundle.md. */
export const IO = {
  image: 'image',
  tokens: 'tokens',
  anomalyMap: 'anomaly_map',
  globalFeature: 'global_feature',
  textFeatures: 'text_features',
  hsfIndices: 'hsf_indices',
  hsfTokens: 'hsf_tokens',
} as const;
