// The onnxruntime-node engine: runs a bundle's model.onnx on the CPU (or CUDA/TensorRT providers
// where an onnxruntime build has them). onnxruntime does not fall back by itself when a requested
// provider's library is missing, so create() retries on the CPU and says so in one warning line.
import * as ort from 'onnxruntime-node';
import type { Bundle } from '../model/bundle.js';
import { checkSessionIo } from '../model/bundle.js';
import { IO, type Manifest } from '../model/manifest.js';
import { runInSubBatches } from './sub-batches.js';
import {
  EngineInputError,
  validateEngineInput,
  type Engine,
  type EngineInfo,
  type EngineInput,
  type EngineOutput,
} from './engine.js';

export type OrtProvider = 'cpu' | 'cuda' | 'tensorrt';

export interface OrtEngineOptions {
  /** In order of preference; 'cpu' is always the last resort. */
  providers?: OrtProvider[];
  /** Intra-op threads; 0 = onnxruntime's default (one per core). */
  threads?: number;
  /** Larger batches are split into runs of at most this many images. */
  maxBatch?: number;
  logger?: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  /**
   * Diagnostics (benchmarks): onnxruntime's per-node profile into `<filePrefix>_<date>.json` (written
   * by endProfiling()), and the graph as optimised for this machine into `optimizedModelPath`.
   */
  profile?: { filePrefix: string; optimizedModelPath?: string };
}

// (re-exported: callers and tests import it from here)
export { EngineInputError };

function sessionOptions(
  providers: OrtProvider[],
  threads: number,
  profile: OrtEngineOptions['profile'],
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    ...(profile
      ? {
          enableProfiling: true,
          profileFilePrefix: profile.filePrefix,
          ...(profile.optimizedModelPath ? { optimizedModelFilePath: profile.optimizedModelPath } : {}),
        }
      : {}),
  };
}

export class OnnxRuntimeEngine implements Engine {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly manifest: Manifest,
    readonly info: EngineInfo,
    private readonly topK: number,
    private readonly layers: number,
  ) {}

  static async create(bundle: Bundle, opts: OrtEngineOptions = {}): Promise<OnnxRuntimeEngine> {
    const requested = opts.providers && opts.providers.length > 0 ? opts.providers : ['cpu' as const];
    const threads = opts.threads ?? 0;
    const maxBatch = opts.maxBatch ?? 4;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new Error(`onnxruntime: maxBatch must be >= 1, got ${maxBatch}`);
    let providers: OrtProvider[] = requested.includes('cpu') ? requested : [...requested, 'cpu'];
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(
        bundle.onnxPath,
        sessionOptions(providers, threads, opts.profile),
      );
    } catch (err) {
      const accelerators = providers.filter((p) => p !== 'cpu');
      if (accelerators.length === 0)
        throw new Error(`onnxruntime: cannot load ${bundle.onnxPath}: ${(err as Error).message}`);
      opts.logger?.warn(
        { requested: providers, reason: (err as Error).message.split('\n')[0] },
        `onnxruntime provider ${accelerators.join('/')} is not available here: falling back to the CPU`,
      );
      providers = ['cpu'];
      session = await ort.InferenceSession.create(
        bundle.onnxPath,
        sessionOptions(providers, threads, opts.profile),
      );
    }
    try {
      checkSessionIo(bundle, session);
    } catch (err) {
      await session.release();
      throw err;
    }
    const device = providers[0];
    opts.logger?.info({ device, threads: threads || 'default', maxBatch }, 'onnxruntime engine ready');
    return new OnnxRuntimeEngine(
      session,
      bundle.manifest,
      { backend: 'onnxruntime', device, maxBatch, hsfInputsOn: 'host' },
      bundle.topK,
      bundle.layers,
    );
  }

  async run(input: EngineInput): Promise<EngineOutput> {
    validateEngineInput(input, this.manifest.imageSize);
    if (input.frames) throw new EngineInputError('engine: onnxruntime takes preprocessed images, not frames');
    return runInSubBatches(input, this.info.maxBatch, this.manifest.imageSize, (chunk) =>
      this.runChunk(chunk),
    );
  }

  private async runChunk(input: EngineInput): Promise<EngineOutput> {
    const S = this.manifest.imageSize;
    const D = this.manifest.architecture.embedDim;
    const { batch, sentences, context } = input;
    const feeds = {
      [IO.image]: new ort.Tensor('float32', input.images, [batch, 3, S, S]),
      [IO.tokens]: new ort.Tensor('int64', input.tokens, [batch, sentences, context]),
    };
    const out = await this.session.run(feeds);
    const K = this.topK;
    const L = this.layers;
    const take = <T>(name: string, dims: number[]): T => {
      const t = out[name];
      if (!t) throw new Error(`onnxruntime: output ${name} missing`);
      if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
        throw new Error(`onnxruntime: output ${name} has shape [${t.dims}], expected [${dims}]`);
      }
      return t.data as T;
    };
    const indices = take<BigInt64Array>(IO.hsfIndices, [batch, K]);
    const hsfIndices = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) hsfIndices[i] = Number(indices[i]);
    const result: EngineOutput = {
      batch,
      imageSize: S,
      embedDim: D,
      topK: K,
      layers: L,
      anomalyMap: take<Float32Array>(IO.anomalyMap, [batch, S, S]),
      globalFeature: take<Float32Array>(IO.globalFeature, [batch, D]),
      textFeatures: take<Float32Array>(IO.textFeatures, [batch, 2, D]),
      hsfIndices,
      hsfTokens: take<Float32Array>(IO.hsfTokens, [batch, K, L, D]),
    };
    return result;
  }

  /** Writes the profile (only with the `profile` option). */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
