// Engine selection: the config's backend ('auto' | 'onnxruntime' | 'tensorrt') against what this
// machine has. A backend that cannot run falls back to onnxruntime with ONE log line naming what was
// missing; onnxruntime's own provider fallback (cuda/tensorrt -> cpu) lives in onnxruntime.ts.
import type { ModelConfig } from '../config/schema.js';
import type { Bundle } from '../model/bundle.js';
import type { Engine } from './engine.js';
import { probeTensorRt, tensorRtUnavailableReason, type TensorRtFacts } from './probe.js';

export type BackendRequest = ModelConfig['engine']['backend'];

export type BackendChoice =
  { backend: 'tensorrt' } | { backend: 'onnxruntime'; fallback?: { from: 'tensorrt'; reason: string } };

export interface SelectLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** The pure decision: TensorRT only when the addon, libnvinfer and a CUDA device are all there. */
export function chooseBackend(requested: BackendRequest, facts: TensorRtFacts): BackendChoice {
  if (requested === 'onnxruntime') return { backend: 'onnxruntime' };
  const why = tensorRtUnavailableReason(facts);
  if (why === undefined) return { backend: 'tensorrt' };
  return { backend: 'onnxruntime', fallback: { from: 'tensorrt', reason: why } };
}

export interface EngineFactories {
  onnxruntime(model: ModelConfig, bundle: Bundle, logger: SelectLogger): Promise<Engine>;
  tensorrt(model: ModelConfig, bundle: Bundle, facts: TensorRtFacts, logger: SelectLogger): Promise<Engine>;
}

export interface CreateEngineDeps {
  /** GPU/TensorRT facts; default: the real addon (tests inject a double). */
  probe?: () => TensorRtFacts;
  factories?: Partial<EngineFactories>;
}

const defaultFactories: EngineFactories = {
  async onnxruntime(model, bundle, logger) {
    const { OnnxRuntimeEngine } = await import('./onnxruntime.js');
    return OnnxRuntimeEngine.create(bundle, {
      providers: model.engine.providers,
      threads: model.engine.threads,
      maxBatch: model.engine.maxBatch,
      logger,
    });
  },
  async tensorrt(model, bundle, facts, logger) {
    const { ensureEngine } = await import('./engine-cache.js');
    const { TensorRtEngine, loadNodeTensorrt } = await import('./tensorrt.js');
    const load = loadNodeTensorrt();
    if (!load.ok) throw new Error(load.reason);
    if (!facts.tensorrt.ok || !facts.cuda.ok) throw new Error('TensorRT or CUDA unavailable');
    const gpu = facts.cuda.devices[0];
    const built = await ensureEngine({
      bundle,
      precision: model.engine.precision,
      maxBatch: model.engine.maxBatch,
      cacheDir: model.engine.engineCacheDir,
      facts: { tensorrtVersion: facts.tensorrt.version, gpuName: gpu.name },
      logger,
    });
    return TensorRtEngine.open(load.addon, bundle, {
      enginePath: built.enginePath,
      maxBatch: model.engine.maxBatch,
      deviceLabel: `tensorrt ${model.engine.precision} (${gpu.name})`,
    });
  },
};

/**
 * Creates the engine the config asks for, or the best one available for 'auto'. TensorRT that is
 * missing, or whose engine cannot be built or opened, falls back to onnxruntime with one log line.
 */
export async function createEngine(
  model: ModelConfig,
  bundle: Bundle,
  logger: SelectLogger,
  deps: CreateEngineDeps = {},
): Promise<Engine> {
  const factories = { ...defaultFactories, ...deps.factories };
  const requested = model.engine.backend;
  const facts = requested === 'onnxruntime' ? undefined : (deps.probe ?? probeTensorRt)();
  const choice: BackendChoice = facts ? chooseBackend(requested, facts) : { backend: 'onnxruntime' };
  if (choice.backend === 'tensorrt' && facts) {
    try {
      return await factories.tensorrt(model, bundle, facts, logger);
    } catch (err) {
      logFallback(logger, requested, `TensorRT engine failed: ${(err as Error).message.split('\n')[0]}`);
      return factories.onnxruntime(model, bundle, logger);
    }
  }
  if (choice.backend === 'onnxruntime' && choice.fallback)
    logFallback(logger, requested, choice.fallback.reason);
  return factories.onnxruntime(model, bundle, logger);
}

/** The one line: a warning when TensorRT was asked for by name, info when 'auto' settles for less. */
function logFallback(logger: SelectLogger, requested: BackendRequest, reason: string): void {
  const msg = `engine: ${requested === 'auto' ? 'auto selected' : 'falling back to'} onnxruntime: TensorRT unavailable (${reason})`;
  if (requested === 'tensorrt') logger.warn({ requested, reason }, msg);
  else logger.info({ requested, reason }, msg);
}
