// One interface for every inference backend (onnxruntime, our node-tensorrt addon). Adding a
// backend means one file in this folder and one entry in select.ts, as Frigate does with detectors.
import type { Manifest } from '../model/manifest.js';
import type { DeviceFrame } from '../preprocess/tensor.js';

/** A batch of preprocessed images plus, per image, the tokens of its class's prompt sentences. */
export interface EngineInput {
  /** float32 [B,3,S,S], normalised; empty when `frames` is given. */
  images: Float32Array;
  /** Or the B camera frames themselves, for an engine that preprocesses on the GPU (info.takesFrames). */
  frames?: DeviceFrame[];
  /** int64 [B,Q,T]: the sentences of each image's class (see model/prompts). */
  tokens: BigInt64Array;
  batch: number;
  /** Q and T of tokens. */
  sentences: number;
  context: number;
}

export class EngineInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineInputError';
  }
}

/** Checks a batch against the bundle's image size before any backend sees it (every backend). */
export function validateEngineInput(input: EngineInput, imageSize: number): void {
  const S = imageSize;
  const { batch, sentences, context } = input;
  if (!Number.isInteger(batch) || batch < 1)
    throw new EngineInputError(`engine: batch must be >= 1, got ${batch}`);
  if (input.frames) {
    if (input.frames.length !== batch || input.images.length !== 0) {
      throw new EngineInputError(
        `engine: ${input.frames.length} frames for a batch of ${batch} (and images must be empty then)`,
      );
    }
  } else if (input.images.length !== batch * 3 * S * S) {
    throw new EngineInputError(
      `engine: images hold ${input.images.length} floats, [${batch},3,${S},${S}] needs ${batch * 3 * S * S}`,
    );
  }
  if (input.tokens.length !== batch * sentences * context || context < 1 || context > 77) {
    throw new EngineInputError(
      `engine: tokens hold ${input.tokens.length} ids for [${batch},${sentences},${context}] (context 1..77)`,
    );
  }
}

/** What the engine returns for a batch, on the host. Shapes as in docs/model-bundle.md. */
export interface EngineOutput {
  batch: number;
  imageSize: number;
  embedDim: number;
  topK: number;
  layers: number;
  /** float32 [B,S,S] */
  anomalyMap: Float32Array;
  /** float32 [B,D] */
  globalFeature: Float32Array;
  /** float32 [B,2,D] */
  textFeatures: Float32Array;
  /** int64 [B,K] as numbers */
  hsfIndices: Int32Array;
  /** float32 [B,K,L,D] */
  hsfTokens: Float32Array;
}

export interface EngineInfo {
  backend: 'onnxruntime' | 'tensorrt';
  /** e.g. "cpu", "cuda", "tensorrt fp16 (Orin)". */
  device: string;
  maxBatch: number;
  /** Where HSF inputs live after run(): "host" or "device" (then HSF runs on the GPU). */
  hsfInputsOn: 'host' | 'device';
  /** run() takes camera frames (EngineInput.frames) and preprocesses them on the GPU. */
  takesFrames?: boolean;
}

export interface Engine {
  readonly info: EngineInfo;
  readonly manifest: Manifest;
  run(input: EngineInput): Promise<EngineOutput>;
  close(): Promise<void>;
}
