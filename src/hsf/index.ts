// HSF entry point: createHsfRunner picks the implementation and logs the choice.
import { CpuHsfRunner } from './cpu.js';
import { createGpuHsfRunner, HsfGpuUnavailableError, loadHsfGpuBinding } from './gpu.js';
import { wasmGramAvailable } from './gram-wasm.js';
import type { KMeansOptions } from './kmeans-gram.js';
import type { HsfRunner } from './types.js';

export type { HsfInput, HsfResult, HsfRunner, HsfSettings } from './types.js';
export { CpuHsfRunner } from './cpu.js';
export { GpuHsfRunner, HsfGpuUnavailableError, type HsfAddonBinding } from './gpu.js';
export { HsfInputError } from './validate.js';
export { DEFAULT_KMEANS, type KMeansOptions } from './kmeans-gram.js';

/** The subset of a pino logger HSF uses. */
export interface HsfLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * 'cpu': the TypeScript runner. 'gpu': the node-tensorrt CUDA runner, or HsfGpuUnavailableError.
 * 'auto': the GPU runner when the addon has one and a device is present, else the CPU runner.
 */
export function createHsfRunner(
  kind: 'cpu' | 'gpu' | 'auto',
  logger?: HsfLogger,
  kmeans: Partial<KMeansOptions> = {},
): HsfRunner {
  if (kind === 'cpu') {
    logger?.info({ hsf: 'cpu' }, 'HSF runs on the CPU (TypeScript)');
    return new CpuHsfRunner(kmeans);
  }
  try {
    const runner = createGpuHsfRunner();
    logger?.info({ hsf: 'gpu' }, 'HSF runs on the GPU (node-tensorrt CUDA kernels)');
    return runner;
  } catch (err) {
    if (kind === 'gpu' || !(err instanceof HsfGpuUnavailableError)) throw err;
    logger?.warn({ hsf: 'cpu', reason: err.message }, 'HSF falls back to the CPU');
    return new CpuHsfRunner(kmeans);
  }
}

/** For `doctor`: where HSF can run here, one line each. */
export function describeHsf(): { cpu: string; gpu: string } {
  const cpu = wasmGramAvailable()
    ? 'TypeScript, Gram matrix with WebAssembly SIMD'
    : 'TypeScript, scalar Gram matrix (no WebAssembly SIMD)';
  let gpu: string;
  try {
    loadHsfGpuBinding();
    gpu = 'available (node-tensorrt CUDA kernels)';
  } catch (err) {
    gpu = (err as Error).message;
  }
  return { cpu, gpu };
}
