// HSF entry point: createHsfRunner picks the implementation and logs the choice.
import { CpuHsfRunner } from './cpu.js';
import { createGpuHsfRunner, HsfGpuUnavailableError, loadHsfGpuBinding } from './gpu.js';
import { wasmGramAvailable } from './gram-wasm.js';
import type { KMeansOptions } from './kmeans-gram.js';
import { loadHsfCpuBinding, NativeCpuHsfRunner } from './native-cpu.js';
import type { HsfRunner } from './types.js';

export type { HsfInput, HsfResult, HsfRunner, HsfSettings } from './types.js';
export { CpuHsfRunner } from './cpu.js';
export { NativeCpuHsfRunner, defaultHsfThreads } from './native-cpu.js';
export { GpuHsfRunner, HsfGpuUnavailableError, type HsfAddonBinding } from './gpu.js';
export { HsfInputError } from './validate.js';
export { DEFAULT_KMEANS, type KMeansOptions } from './kmeans-gram.js';

/** The subset of a pino logger HSF uses. */
export interface HsfLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface HsfRunnerOptions {
  kmeans?: Partial<KMeansOptions>;
  /** Threads of the native CPU path (default: defaultHsfThreads()). */
  threads?: number;
}

/**
 * The CPU runner: the native path of the node-tensorrt addon when it is built (the same results,
 * several times faster), else the TypeScript runner, with the reason logged.
 */
export function createCpuHsfRunner(
  logger?: HsfLogger,
  opts: HsfRunnerOptions = {},
): NativeCpuHsfRunner | CpuHsfRunner {
  try {
    const runner = new NativeCpuHsfRunner(loadHsfCpuBinding(), opts.kmeans, opts.threads);
    logger?.info(
      { hsf: 'cpu', implementation: 'native', kernel: runner.kernel, threads: runner.options.threads },
      'HSF runs on the CPU (node-tensorrt native path)',
    );
    return runner;
  } catch (err) {
    logger?.warn(
      { hsf: 'cpu', implementation: 'typescript', reason: (err as Error).message },
      'HSF runs on the CPU in TypeScript (the native path is unavailable)',
    );
    return new CpuHsfRunner(opts.kmeans);
  }
}

/**
 * Where HSF should run for `model.hsf.device` and an engine: 'auto' goes to the GPU only when the
 * engine's outputs stay on the device (TensorRT); onnxruntime hands them back to the host.
 */
export function hsfKindFor(
  device: 'auto' | 'cpu' | 'gpu',
  hsfInputsOn: 'host' | 'device',
): 'cpu' | 'gpu' | 'auto' {
  if (device !== 'auto') return device;
  return hsfInputsOn === 'device' ? 'auto' : 'cpu';
}

/**
 * 'cpu': the CPU runner (native, else TypeScript). 'gpu': the node-tensorrt CUDA runner, or
 * HsfGpuUnavailableError. 'auto': the GPU runner when the addon has one and a device is present,
 * else the CPU runner.
 */
export function createHsfRunner(
  kind: 'cpu' | 'gpu' | 'auto',
  logger?: HsfLogger,
  opts: HsfRunnerOptions = {},
): HsfRunner {
  if (kind === 'cpu') return createCpuHsfRunner(logger, opts);
  try {
    const runner = createGpuHsfRunner();
    logger?.info({ hsf: 'gpu' }, 'HSF runs on the GPU (node-tensorrt CUDA kernels)');
    return runner;
  } catch (err) {
    if (kind === 'gpu' || !(err instanceof HsfGpuUnavailableError)) throw err;
    logger?.warn({ hsf: 'cpu', reason: err.message }, 'HSF falls back to the CPU');
    return createCpuHsfRunner(logger, opts);
  }
}

/** For `doctor`: where HSF can run here, one line each. */
export function describeHsf(): { cpu: string; gpu: string } {
  const wasm = wasmGramAvailable()
    ? 'TypeScript with a WebAssembly SIMD Gram matrix'
    : 'TypeScript with a scalar Gram matrix (no WebAssembly SIMD)';
  let cpu: string;
  try {
    const binding = loadHsfCpuBinding();
    cpu = `native (node-tensorrt, ${binding.kernel} Gram kernel); fallback ${wasm}`;
  } catch (err) {
    cpu = `${wasm} (native path unavailable: ${(err as Error).message})`;
  }
  let gpu: string;
  try {
    loadHsfGpuBinding();
    gpu = 'available (node-tensorrt CUDA kernels)';
  } catch (err) {
    gpu = (err as Error).message;
  }
  return { cpu, gpu };
}
