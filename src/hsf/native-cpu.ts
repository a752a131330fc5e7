// HSF on the CPU through node-tensorrt's native path (native/node-tensorrt/src/hsf/hsf_cpu.cpp): the
// Gram matrix with AVX2 (bit-identical to gram.ts), the CUDA kernel's K-Means compiled as C++, and
// the same fusion, so labels and scores equal the TypeScript runner's (tested). It runs on libuv's
// pool, off the event loop, on `threads` threads. The TypeScript runner (cpu.ts) remains the
// reference and the fallback when the addon is not built.
import os from 'node:os';
import { requireHsfAddon } from './addon.js';
import { DEFAULT_KMEANS, type KMeansOptions } from './kmeans-gram.js';
import type { HsfInput, HsfResult, HsfRunner, HsfSettings } from './types.js';
import { HsfInputError, validateHsfInput } from './validate.js';

export interface NativeHsfOptions extends KMeansOptions {
  threads: number;
}

/** The addon's `hsfCpu` object (native/node-tensorrt/src/hsf_cpu_binding.cpp). */
export interface HsfCpuBinding {
  /** The Gram kernel this CPU runs: "avx2" or "scalar". */
  kernel: string;
  runSync(input: HsfInput, settings: HsfSettings, options: NativeHsfOptions): HsfResult;
  run(input: HsfInput, settings: HsfSettings, options: NativeHsfOptions): Promise<HsfResult>;
}

/** The default thread count: two, or one on a single-core machine (the engine needs cores too). */
export function defaultHsfThreads(): number {
  return Math.min(2, os.availableParallelism());
}

/** Loads the binding, or throws an Error saying why not. */
export function loadHsfCpuBinding(): HsfCpuBinding {
  const addon = requireHsfAddon<{ hsfCpu?: HsfCpuBinding }>();
  if (!addon.hsfCpu || typeof addon.hsfCpu.run !== 'function') {
    throw new Error(
      'the node-tensorrt addon has no hsfCpu binding (rebuild it: native/node-tensorrt/build.sh)',
    );
  }
  return addon.hsfCpu;
}

export class NativeCpuHsfRunner implements HsfRunner {
  readonly kind = 'cpu' as const;
  readonly options: NativeHsfOptions;

  constructor(
    private readonly binding: HsfCpuBinding,
    kmeans: Partial<KMeansOptions> = {},
    threads = defaultHsfThreads(),
  ) {
    this.options = { ...DEFAULT_KMEANS, ...kmeans, threads };
    if (!Number.isInteger(threads) || threads < 1) {
      throw new Error(`HSF: threads must be a positive integer, got ${threads}`);
    }
  }

  get kernel(): string {
    return this.binding.kernel;
  }

  async run(input: HsfInput, settings: HsfSettings): Promise<HsfResult> {
    validateHsfInput(input, settings);
    return this.binding.run(input, settings, this.options).catch((err: Error) => {
      throw nonFiniteError(err);
    });
  }

  /** The same as run(), on the calling thread (benchmarks, callers already off the event loop). */
  runSync(input: HsfInput, settings: HsfSettings): HsfResult {
    validateHsfInput(input, settings);
    try {
      return this.binding.runSync(input, settings, this.options);
    } catch (err) {
      throw nonFiniteError(err as Error);
    }
  }
}

/** A non-finite token is bad input, as in the TypeScript runner: the same error class and text. */
function nonFiniteError(err: Error): Error {
  return /non-finite/.test(err.message) ? new HsfInputError(err.message) : err;
}
