// The TensorRT backend: loads our node-tensorrt addon (native/node-tensorrt) and runs a bundle's
// engine file through it. Loading never throws: it reports why the addon, TensorRT or a GPU is not
// usable, so that engine selection can fall back to onnxruntime with that reason.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '../model/bundle.js';
import { IO, type Manifest } from '../model/manifest.js';
import type { HsfResult, HsfRunner, HsfSettings } from '../hsf/types.js';
import type { PreprocessBinding } from '../preprocess/device.js';
import type { DeviceFrame } from '../preprocess/tensor.js';
import {
  EngineInputError,
  validateEngineInput,
  type Engine,
  type EngineInfo,
  type EngineInput,
  type EngineOutput,
} from './engine.js';

import { runInSubBatches } from './sub-batches.js';

// ----- The addon's API (native/node-tensorrt/src/*.cpp) ----------------------------------------------

export interface AddonBuildInfo {
  napiVersion: number;
  cuda: boolean;
  /** "87,90" */
  cudaArchs: string;
  cudaToolkit: string | null;
  /** TensorRT header version the session code was compiled against; null = built without it. */
  tensorrtHeaders: string | null;
  hsf: boolean;
}

export interface CudaDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemoryBytes: number;
  multiProcessors: number;
  integrated: boolean;
}

export type CudaQuery =
  | { ok: true; driverVersion: string; runtimeVersion: string; devices: CudaDevice[] }
  | { ok: false; code: number; codeName: string; error: string };

export type TensorRtLoad =
  { ok: true; version: string; versionCode: number; library: string } | { ok: false; error: string };

export interface NativeTensorInfo {
  name: string;
  mode: 'input' | 'output';
  dtype: 'float32' | 'float16' | 'int8' | 'int32' | 'bool' | 'uint8' | 'fp8' | 'bfloat16' | 'int64';
  /** -1 for dynamic dimensions */
  shape: number[];
  min?: number[];
  opt?: number[];
  max?: number[];
}

export type NativeInputData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** An input given as data, or as camera frames the addon preprocesses into [B,3,S,S] on the GPU. */
export type NativeInput =
  | { data: NativeInputData; shape: number[] }
  | { frames: DeviceFrame[]; size: number; mean: readonly number[]; std: readonly number[] };

export interface NativeInferOptions {
  /** Outputs that stay on the device (not copied back): the ones HSF consumes there. */
  keepOnDevice?: string[];
  /** Run the HSF kernels on the device outputs before anything is copied back. */
  hsf?: { kClusters: number; alpha: number };
}

export interface NativeInferResult {
  outputs: Record<
    string,
    { data: Float32Array | Int32Array | BigInt64Array | Uint8Array; shape: number[]; dtype: string }
  >;
  hsf?: Required<HsfResult>;
}

export interface NativeTensorRtEngine {
  readonly contexts: number;
  readonly deviceMemoryBytes: number;
  io(): NativeTensorInfo[];
  infer(inputs: Record<string, NativeInput>, opts?: NativeInferOptions): Promise<NativeInferResult>;
  close(): void;
}

export interface NodeTensorrtAddon {
  buildInfo(): AddonBuildInfo;
  cudaDevices(): CudaQuery;
  loadTensorRt(opts?: { library?: string }): TensorRtLoad;
  openEngine(
    path: string,
    opts?: { contexts?: number; plugins?: boolean; device?: number },
  ): Promise<NativeTensorRtEngine>;
  tensorRtLog?(): string[];
  float32ToFloat16(values: Float32Array): Uint16Array;
  float16ToFloat32(bits: Uint16Array): Float32Array;
  /** The HSF CUDA kernels (src/hsf/gpu.ts uses this binding). */
  hsf: {
    available(): boolean;
    reason(): string;
    maxTopK?(): number;
    createRunner(): HsfRunner;
  };
  /** The preprocessing kernels (src/preprocess/device.ts); absent in builds before them. */
  preprocess?: PreprocessBinding;
}

// ----- Loading the addon ----------------------------------------------------------------------------

export type AddonLoad = { ok: true; addon: NodeTensorrtAddon; path: string } | { ok: false; reason: string };

const ADDON_RELATIVE = join('native', 'node-tensorrt', 'build', 'Release', 'node_tensorrt.node');

/** The repository root: the nearest folder above this file that holds native/node-tensorrt. */
function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'native', 'node-tensorrt'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Where the addon is expected: $NTRT_ADDON, else native/node-tensorrt/build/Release of this checkout. */
export function addonPath(): string | undefined {
  if (process.env.NTRT_ADDON) return resolve(process.env.NTRT_ADDON);
  const root = repoRoot();
  return root ? join(root, ADDON_RELATIVE) : undefined;
}

let cached: AddonLoad | undefined;

/** Loads the addon once; never throws. */
export function loadNodeTensorrt(): AddonLoad {
  if (cached) return cached;
  const path = addonPath();
  if (!path) {
    cached = {
      ok: false,
      reason: 'node-tensorrt addon not found: no native/node-tensorrt folder above this install',
    };
  } else if (!existsSync(path)) {
    cached = {
      ok: false,
      reason: `node-tensorrt addon not built (${path} is missing: run native/node-tensorrt/build.sh)`,
    };
  } else {
    try {
      const addon = createRequire(import.meta.url)(path) as NodeTensorrtAddon;
      cached = { ok: true, addon, path };
    } catch (err) {
      cached = {
        ok: false,
        reason: `node-tensorrt addon at ${path} does not load: ${(err as Error).message.split('\n')[0]}`,
      };
    }
  }
  return cached;
}

/** Forgets the loaded state (tests that point NTRT_ADDON elsewhere). */
export function resetNodeTensorrtCache(): void {
  cached = undefined;
}

// ----- The Engine ---------------------------------------------------------------------------------

export interface TensorRtEngineOptions {
  /** Serialised engine (.plan) built for this GPU and TensorRT version (see engine-cache.ts). */
  enginePath: string;
  /** Execution contexts (one CUDA stream each) for runs in flight at once. */
  contexts?: number;
  /** Larger batches are split into runs of at most this many images (the engine's max batch). */
  maxBatch: number;
  /** Shown in EngineInfo.device, e.g. "tensorrt fp16 (Orin)". */
  deviceLabel: string;
  plugins?: boolean;
}

export class TensorRtEngine implements Engine {
  private constructor(
    private readonly native: NativeTensorRtEngine,
    readonly manifest: Manifest,
    readonly info: EngineInfo,
    private readonly topK: number,
    private readonly layers: number,
  ) {}

  static async open(
    addon: NodeTensorrtAddon,
    bundle: Bundle,
    opts: TensorRtEngineOptions,
  ): Promise<TensorRtEngine> {
    const native = await addon.openEngine(opts.enginePath, {
      contexts: opts.contexts ?? 1,
      plugins: opts.plugins ?? false,
    });
    const io = native.io();
    const names = io.map((t) => t.name);
    const missing = [
      IO.image,
      IO.tokens,
      IO.anomalyMap,
      IO.globalFeature,
      IO.textFeatures,
      IO.hsfIndices,
      IO.hsfTokens,
    ].filter((n) => !names.includes(n));
    if (missing.length > 0) {
      native.close();
      throw new Error(
        `TensorRT engine ${opts.enginePath} lacks ${missing.join(', ')} (has ${names.join(', ')})`,
      );
    }
    // Batches are split at the engine's own profile limit when it is below the configured one.
    const profileMax = io.find((t) => t.name === IO.image)?.max?.[0];
    const maxBatch = profileMax && profileMax > 0 ? Math.min(opts.maxBatch, profileMax) : opts.maxBatch;
    // Frames are preprocessed on the GPU into the engine's input when the kernels are built in.
    const imageDtype = io.find((t) => t.name === IO.image)?.dtype;
    const takesFrames =
      (addon.preprocess?.available() ?? false) && (imageDtype === 'float32' || imageDtype === 'float16');
    return new TensorRtEngine(
      native,
      bundle.manifest,
      { backend: 'tensorrt', device: opts.deviceLabel, maxBatch, hsfInputsOn: 'host', takesFrames },
      bundle.topK,
      bundle.layers,
    );
  }

  /** The engine's IO tensors with their profile ranges (for doctor and logs). */
  io(): NativeTensorInfo[] {
    return this.native.io();
  }

  async run(input: EngineInput): Promise<EngineOutput> {
    validateEngineInput(input, this.manifest.imageSize);
    return runInSubBatches(input, this.info.maxBatch, this.manifest.imageSize, (chunk) =>
      this.runChunk(chunk),
    );
  }

  private async runChunk(input: EngineInput): Promise<EngineOutput> {
    const S = this.manifest.imageSize;
    const D = this.manifest.architecture.embedDim;
    const { batch, sentences, context } = input;
    const res = await this.native.infer({
      [IO.image]: this.imageInput(input),
      [IO.tokens]: { data: input.tokens, shape: [batch, sentences, context] },
    });
    return engineOutputFrom(res, { batch, imageSize: S, embedDim: D, topK: this.topK, layers: this.layers });
  }

  /**
   * One batch with HSF on the GPU: hsf_tokens never leave the device, the HSF kernels run on the
   * engine's output buffers on the same stream, and only the HSF result comes back. The returned
   * output has an empty hsfTokens (they stayed on the device). Needs addon.hsf (CUDA HSF kernels).
   */
  async runWithGpuHsf(
    input: EngineInput,
    settings: HsfSettings,
  ): Promise<{ output: EngineOutput; hsf: HsfResult }> {
    validateEngineInput(input, this.manifest.imageSize);
    const S = this.manifest.imageSize;
    const { batch, sentences, context } = input;
    if (batch > this.info.maxBatch) {
      throw new EngineInputError(
        `engine: runWithGpuHsf takes at most ${this.info.maxBatch} images, got ${batch}`,
      );
    }
    const res = await this.native.infer(
      {
        [IO.image]: this.imageInput(input),
        [IO.tokens]: { data: input.tokens, shape: [batch, sentences, context] },
      },
      { keepOnDevice: [IO.hsfTokens], hsf: { kClusters: settings.kClusters, alpha: settings.alpha } },
    );
    if (!res.hsf) throw new Error('TensorRT: the addon returned no HSF result');
    const dims = {
      batch,
      imageSize: S,
      embedDim: this.manifest.architecture.embedDim,
      topK: this.topK,
      layers: this.layers,
    };
    const output = engineOutputFrom(res, dims, { tokensOnDevice: true });
    return { output, hsf: res.hsf };
  }

  async close(): Promise<void> {
    this.native.close();
  }

  /** The image input: the normalised tensor, or the frames that the addon preprocesses on the GPU. */
  private imageInput(input: EngineInput): NativeInput {
    const S = this.manifest.imageSize;
    if (!input.frames) return { data: input.images, shape: [input.batch, 3, S, S] };
    if (!this.info.takesFrames) {
      throw new EngineInputError('engine: this TensorRT engine takes preprocessed images, not frames');
    }
    const { mean, std } = this.manifest.normalize;
    return { frames: input.frames, size: S, mean, std };
  }
}

/** Maps the addon's named outputs to EngineOutput, checking every shape (a wrong engine fails here). */
export function engineOutputFrom(
  res: Pick<NativeInferResult, 'outputs'>,
  dims: { batch: number; imageSize: number; embedDim: number; topK: number; layers: number },
  opts: { tokensOnDevice?: boolean } = {},
): EngineOutput {
  const { batch, imageSize: S, embedDim: D, topK: K, layers: L } = dims;
  const take = (name: string, shape: number[]) => {
    const t = res.outputs[name];
    if (!t) throw new Error(`TensorRT: output ${name} missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`TensorRT: output ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t.data;
  };
  const floats = (name: string, shape: number[]): Float32Array => {
    const d = take(name, shape);
    if (!(d instanceof Float32Array)) throw new Error(`TensorRT: output ${name} is not floating point`);
    return d;
  };
  const idx = take(IO.hsfIndices, [batch, K]);
  let hsfIndices: Int32Array;
  if (idx instanceof Int32Array) hsfIndices = idx;
  else if (idx instanceof BigInt64Array) hsfIndices = Int32Array.from(idx, (v) => Number(v));
  else throw new Error(`TensorRT: output ${IO.hsfIndices} is not an integer tensor`);
  return {
    batch,
    imageSize: S,
    embedDim: D,
    topK: K,
    layers: L,
    anomalyMap: floats(IO.anomalyMap, [batch, S, S]),
    globalFeature: floats(IO.globalFeature, [batch, D]),
    textFeatures: floats(IO.textFeatures, [batch, 2, D]),
    hsfIndices,
    hsfTokens: opts.tokensOnDevice ? new Float32Array(0) : floats(IO.hsfTokens, [batch, K, L, D]),
  };
}
