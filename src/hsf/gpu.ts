// The seam for HSF on the GPU: the node-tensorrt addon (native/node-tensorrt, its own cmake-js
// build) compiles the CUDA kernels of native/node-tensorrt/src/hsf (C API hsf_cuda.h) and exposes
// them as `addon.hsf`. Without the addon, its kernels or a device, asking for the GPU runner fails
// with a clear error and `auto` uses the CPU. (TensorRtEngine.runWithGpuHsf runs the kernels on the
// engine's device buffers itself; this runner is for host inputs and for checks.)
import { requireHsfAddon } from './addon.js';
import type { HsfInput, HsfResult, HsfRunner, HsfSettings } from './types.js';
import { HsfInputError, validateHsfInput } from './validate.js';

/**
 * The addon's `hsf` object (native/node-tensorrt/src/hsf_binding.cpp over the C API hsf_cuda.h):
 * createRunner() returns a native HsfRunner whose run() copies the inputs to the device, runs
 * hsf_run_batch and resolves with scores, fused, labels, clusterFeature and inertia.
 */
export interface HsfAddonBinding {
  /** True when the kernels are built in and a CUDA device is present. */
  available(): boolean;
  /** Why not available (no device, no driver, built without CUDA, ...). */
  reason(): string;
  /** Largest top-K the kernels take (their Gram matrix lives in shared memory). */
  maxTopK?(): number;
  createRunner(): HsfRunner;
}

export class HsfGpuUnavailableError extends Error {
  override name = 'HsfGpuUnavailableError';
}

/** Loads the addon's hsf binding, or throws HsfGpuUnavailableError saying why. */
export function loadHsfGpuBinding(): HsfAddonBinding {
  let addon: { hsf?: HsfAddonBinding };
  try {
    addon = requireHsfAddon<{ hsf?: HsfAddonBinding }>();
  } catch (err) {
    throw new HsfGpuUnavailableError(`GPU HSF unavailable: ${(err as Error).message}`);
  }
  if (!addon.hsf || typeof addon.hsf.createRunner !== 'function') {
    throw new HsfGpuUnavailableError(
      'GPU HSF unavailable: the addon has no hsf binding (built without the HSF kernels)',
    );
  }
  if (!addon.hsf.available()) throw new HsfGpuUnavailableError(`GPU HSF unavailable: ${addon.hsf.reason()}`);
  return addon.hsf;
}

/** The addon's runner behind our input checks (same errors as the CPU runner); identical labels. */
export class GpuHsfRunner implements HsfRunner {
  readonly kind = 'gpu' as const;
  private readonly native: HsfRunner;

  constructor(private readonly binding: HsfAddonBinding) {
    this.native = binding.createRunner();
  }

  async run(input: HsfInput, settings: HsfSettings): Promise<HsfResult> {
    validateHsfInput(input, settings);
    const max = this.binding.maxTopK?.();
    if (max !== undefined && input.topK > max) {
      throw new HsfInputError(`HSF: the GPU kernels take at most ${max} selected tokens, got ${input.topK}`);
    }
    return this.native.run(input, settings);
  }
}

export function createGpuHsfRunner(): HsfRunner {
  return new GpuHsfRunner(loadHsfGpuBinding());
}
